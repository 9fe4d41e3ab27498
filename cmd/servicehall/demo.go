package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/eventstore"
)

// demo serves with a seeded station, so that a newcomer can click through
// at once: the catalogue, counters, hours with a Saturday-morning window,
// users, and a month of history made of real events.
func demo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, pos, err := parse("demo", args, stderr, nil)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("demo: unexpected %q", pos)
	}
	c.DemoOTP = true
	if c.AdminPassword == "" {
		c.AdminPassword = "demo-admin-pass"
	}
	return runServer(ctx, c, stdout, stderr, func(ctx context.Context, h *hall) ([]string, error) {
		if err := seedDemo(ctx, h, clock().In(c.loc)); err != nil {
			return nil, fmt.Errorf("demo seed: %w", err)
		}
		return []string{
			"demo station 鼓楼派出所 (gulou); pages (页面):",
			"  /            resident booking (居民预约)",
			"  /kiosk       check-in kiosk (自助取号)",
			"  /counter     counter console (窗口叫号)",
			"  /board       hall board (叫号大屏)",
			"  /dashboard   manager dashboard (管理看板)",
			"users (用户名 / 密码):",
			"  admin      / " + c.AdminPassword + "   (admin 管理员; only on the first start)",
			"  li.wei     / demo-staff-pass    (staff 窗口人员, gulou)",
			"  wang.fang  / demo-staff-pass    (staff 窗口人员, gulou)",
			"  zhao.lead  / demo-manager-pass  (manager 所领导, gulou)",
			"  kiosk.gulou / demo-kiosk-pass   (kiosk 自助机, gulou)",
			"  chen.bureau / demo-bureau-pass  (bureau manager 分局领导, every station)",
			"  residents: any mobile number; the one-time code is shown (居民: 任意手机号, 验证码直接显示)",
		}, nil
	})
}

// The demo catalogue, from shared/data/services.md: the promised limit
// (承诺时限) and, where a statute sets a longer one, the legal limit (法定时限,
// in the statute's calendar days, 日); the legal basis as that table and
// legal_excerpts.md cite it; a fee only where they give one (the ID card's,
// 发改价格〔2003〕2322号), none otherwise.
var demoServices = []domain.Service{
	{ID: "birth", Name: "Birth registration", NameZh: "出生登记", Category: domain.Household, TimeLimitDays: 20, TimeLimitUnit: calendar.WorkingDays,
		LegalBasis:  "《中华人民共和国户口登记条例》第七条；《户口居民身份证管理工作规范（试行）》第二十条",
		Materials:   []string{"出生医学证明", "父母一方居民户口簿", "结婚证"},
		MaterialsEn: []string{"Medical birth certificate", "A parent's household register", "Marriage certificate"}},
	{ID: "transfer", Name: "Hukou transfer", NameZh: "户口迁移", Category: domain.Household, TimeLimitDays: 20, TimeLimitUnit: calendar.WorkingDays, Online: true,
		LegalLimitDays: 30, LegalLimitUnit: calendar.WorkingDays, // 行政许可法 第42条: 20 working days, extendable by 10
		LegalBasis:  "《中华人民共和国户口登记条例》第十三条；《户口居民身份证管理工作规范（试行）》第四十三条；《中华人民共和国行政许可法》第四十二条、第八十二条",
		Materials:   []string{"居民户口簿", "准迁证", "迁移证"},
		MaterialsEn: []string{"Household register", "Permit to move in", "Migration certificate"}},
	{ID: "correction", Name: "Correction of household entries", NameZh: "户口登记项目变更更正", Category: domain.Household, TimeLimitDays: 20, TimeLimitUnit: calendar.WorkingDays,
		LegalBasis:  "《户口居民身份证管理工作规范（试行）》第五十三条、第五十四条、第五十七条",
		Materials:   []string{"书面申请", "证明材料"},
		MaterialsEn: []string{"Written application", "Supporting documents"}},
	{ID: "idcard", Name: "Resident ID card", NameZh: "居民身份证申领、换领、补领", Category: domain.License, TimeLimitDays: 45, TimeLimitUnit: calendar.CalendarDays,
		LegalLimitDays: 60, LegalLimitUnit: calendar.CalendarDays, // the MPS norm's 45日; 居民身份证法 第12条 60日
		Fee:         "换领（有效期满）20元；丢失、损坏补领或换领40元（发改价格〔2003〕2322号）；首次申领各地不一",
		LegalBasis:  "《中华人民共和国居民身份证法》第十条、第十二条；《户口居民身份证管理工作规范（试行）》第七十八条、第八十条",
		Materials:   []string{"居民身份证申领登记表", "居民户口簿"},
		MaterialsEn: []string{"ID card application form", "Household register"}},
	{ID: "idcard-temp", Name: "Temporary ID card", NameZh: "临时居民身份证", Category: domain.License, TimeLimitDays: 3, TimeLimitUnit: calendar.CalendarDays,
		LegalBasis:  "《临时居民身份证管理办法》第十一条、第十二条；《户口居民身份证管理工作规范（试行）》第八十二条",
		Materials:   []string{"居民户口簿", "近期一寸照片"},
		MaterialsEn: []string{"Household register", "Recent one-inch photo"}},
	{ID: "permit", Name: "Residence permit", NameZh: "居住证申领", Category: domain.License, TimeLimitDays: 15, TimeLimitUnit: calendar.CalendarDays,
		LegalBasis:  "《居住证暂行条例》第二条、第九条；《户口居民身份证管理工作规范（试行）》第六十六条、第六十八条、第六十九条",
		Materials:   []string{"居民身份证", "照片", "住所、就业或就读证明"},
		MaterialsEn: []string{"Resident ID card", "Photo", "Proof of residence, work or study"}},
	{ID: "passport", Name: "Ordinary passport", NameZh: "普通护照", Category: domain.License, TimeLimitDays: 7, TimeLimitUnit: calendar.WorkingDays,
		LegalLimitDays: 15, LegalLimitUnit: calendar.CalendarDays, // NIA's promise; 护照法 第6条 15日
		LegalBasis:  "《中华人民共和国护照法》第六条",
		Materials:   []string{"居民身份证", "居民户口簿", "照片"},
		MaterialsEn: []string{"Resident ID card", "Household register", "Photo"}},
}

// Demo applicants: ID numbers from the valid lists of public test suites
// (shared/data/id-numbers), phones made up.
var demoPeople = []domain.Applicant{
	{Name: "张伟", IDNumber: "235407195106112745", Phone: "13800000001"},
	{Name: "王芳", IDNumber: "210203197503102721", Phone: "13800000002"},
	{Name: "李娜", IDNumber: "520323197806058856", Phone: "13800000003"},
	{Name: "刘洋", IDNumber: "33050219880702447X", Phone: "13800000004"},
}

// seedDemo writes the demo station once; a second start finds it and
// leaves the log alone.
func seedDemo(ctx context.Context, h *hall, now time.Time) error {
	st, _, err := command.Load[domain.Station](ctx, h.log, domain.StationStream("gulou"))
	if err != nil || st.Registered() {
		return err
	}
	loc := now.Location()
	today := calendar.DateOf(now)
	cal := calendar.New()
	if notices, err := calendar.Official(); err == nil {
		cal = calendar.New(notices...)
		for _, n := range notices {
			if n.Year == today.Year || n.Year == today.Year+1 {
				if _, err := h.hall.ImportCalendar(ctx, n, seedMeta("admin", domain.RoleAdmin, now, "calendar")); err != nil {
					return err
				}
			}
		}
	}
	cat := map[string]domain.Service{}
	for _, s := range demoServices {
		cat[s.ID] = s
	}
	household := []string{"birth", "transfer", "correction"}
	license := []string{"idcard", "idcard-temp", "permit", "passport"}
	all := append(append([]string{}, household...), license...)
	var weekly []domain.Hours
	for wd := 1; wd <= 5; wd++ {
		weekly = append(weekly,
			domain.Hours{Weekday: wd, Start: 9 * 60, End: 12 * 60, ServiceIDs: all, SlotMinutes: 30, Capacity: 4, WalkIn: 1},
			domain.Hours{Weekday: wd, Start: 13*60 + 30, End: 17 * 60, ServiceIDs: all, SlotMinutes: 30, Capacity: 4, WalkIn: 1})
	}
	// The release job opens the slots when the server starts.
	if _, err := h.hall.SetUp(ctx, command.Setup{
		Services: demoServices,
		// A made-up address and number: the demo station is no real one.
		StationRegistered: domain.StationRegistered{ID: "gulou", Name: "鼓楼派出所", NameEn: "Gulou Police Station", Address: "鼓楼区中山路 1 号（演示地址）", Phone: "010-00000000"},
		Counters: []domain.Counter{
			{ID: "w1", Name: "1号窗口 户籍", NameEn: "Counter 1 · Household", ServiceIDs: household},
			{ID: "w2", Name: "2号窗口 综合", NameEn: "Counter 2 · All services", ServiceIDs: all},
			{ID: "w3", Name: "3号窗口 证照", NameEn: "Counter 3 · Licences", ServiceIDs: license},
		},
		Hours: command.Hours{Weekly: weekly, WeekendWindows: []domain.Hours{{Weekday: 6, Start: 9 * 60, End: 12 * 60, ServiceIDs: household, SlotMinutes: 30, Capacity: 3}}},
	}, 0, seedMeta("admin", domain.RoleAdmin, now, "setup")); err != nil {
		return err
	}
	for _, u := range []struct{ name, password, role, station string }{
		{"li.wei", "demo-staff-pass", domain.RoleStaff, "gulou"},
		{"wang.fang", "demo-staff-pass", domain.RoleStaff, "gulou"},
		{"zhao.lead", "demo-manager-pass", domain.RoleManager, "gulou"},
		{"kiosk.gulou", "demo-kiosk-pass", domain.RoleKiosk, "gulou"},
		{"chen.bureau", "demo-bureau-pass", domain.RoleManager, ""},
	} {
		if _, err := h.hall.CreateUser(ctx, u.name, u.password, u.role, u.station, seedMeta("admin", domain.RoleAdmin, now, "user-"+u.name)); err != nil {
			return err
		}
	}
	if err := seedApplications(ctx, h, cat, cal, today, loc); err != nil {
		return err
	}
	return seedQueue(ctx, h, cat, cal, today, loc)
}

func seedMeta(actor, role string, at time.Time, id string) command.Meta {
	return command.Meta{Actor: eventstore.Actor{ID: actor, Role: role}, At: at, CommandID: "demo-" + id}
}

// seedApplications writes a month of applications, as the desk would have:
// most done on time, one late, one rejected, one waiting for materials,
// one near its deadline and one overdue (the escalation job, at start,
// escalates it), with ratings.
func seedApplications(ctx context.Context, h *hall, cat map[string]domain.Service, cal *calendar.Calendar, today calendar.Date, loc *time.Location) error {
	type step func(a *domain.Application, d calendar.Date) ([]domain.Event, error)
	accept := func(a *domain.Application, d calendar.Date) ([]domain.Event, error) {
		return a.Accept("li.wei", d, cal)
	}
	approve := func(a *domain.Application, _ calendar.Date) ([]domain.Event, error) {
		return a.Approve("zhao.lead", "材料齐全，予以办理")
	}
	complete := func(a *domain.Application, d calendar.Date) ([]domain.Event, error) {
		return a.Complete("wang.fang", d)
	}
	rate := func(score int, comment string) step {
		return func(a *domain.Application, d calendar.Date) ([]domain.Event, error) {
			return a.Rate("resident", domain.Scores{Score: score}, comment, d, cal)
		}
	}
	n := 0
	story := func(service string, days []int, steps ...step) error {
		n++
		id := fmt.Sprintf("demo-%02d", n)
		who := demoPeople[n%len(demoPeople)]
		checked, err := who.Check(today.In(loc))
		if err != nil {
			return err
		}
		person, err := h.hall.Person(ctx, checked)
		if err != nil {
			return err
		}
		first := today.AddDays(-days[0])
		if _, err := command.Execute(ctx, h.h, domain.ApplicationStream(id), seedMeta("li.wei", domain.RoleStaff, first.In(loc).Add(9*time.Hour+time.Duration(n)*time.Minute), id+"-submit"),
			func(a *domain.Application) ([]domain.Event, error) {
				return a.Submit(domain.ApplicationSubmitted{ID: id, StationID: "gulou", Channel: "counter", Applicant: person}, cat[service])
			}); err != nil {
			return err
		}
		for i, s := range steps {
			d := today.AddDays(-days[min(i, len(days)-1)])
			actor, role := "li.wei", domain.RoleStaff
			m := seedMeta(actor, role, d.In(loc).Add(10*time.Hour+time.Duration(i)*time.Minute), fmt.Sprintf("%s-%d", id, i))
			if _, err := command.Execute(ctx, h.h, domain.ApplicationStream(id), m, func(a *domain.Application) ([]domain.Event, error) { return s(a, d) }); err != nil {
				return fmt.Errorf("%s step %d: %w", id, i, err)
			}
		}
		return nil
	}
	// Done on time, accepted over the last month.
	for i, svc := range []string{"birth", "idcard-temp", "permit", "passport", "birth", "correction", "permit", "idcard-temp", "passport", "birth"} {
		accepted := 28 - i*2
		if err := story(svc, []int{accepted, accepted, max(accepted-2, 1), max(accepted-2, 1), max(accepted-3, 0)},
			accept, approve, complete, rate(4+i%2, "办事效率高")); err != nil {
			return err
		}
	}
	// Late: a passport (7 working days) accepted 20 days ago, decided and
	// done 2 days ago; rated badly.
	if err := story("passport", []int{20, 2, 2, 1}, accept, approve, complete, rate(2, "等待时间过长")); err != nil {
		return err
	}
	// Rejected.
	if err := story("transfer", []int{12, 12, 5}, accept, func(a *domain.Application, _ calendar.Date) ([]domain.Event, error) {
		return a.Reject("zhao.lead", "不符合迁入条件", "《中华人民共和国户口登记条例》第十条")
	}); err != nil {
		return err
	}
	// Waiting for materials (the clock is paused).
	if err := story("permit", []int{6, 6, 4}, accept, func(a *domain.Application, d calendar.Date) ([]domain.Event, error) {
		return a.RequestSupplement("li.wei", []string{"住所证明"}, d, cal)
	}); err != nil {
		return err
	}
	// Near the deadline: accepted so that one working day is left.
	next := today.AddDays(1)
	for !cal.IsWorkingDay(next) {
		next = next.AddDays(1)
	}
	back := 1
	for ; back < 60 && cal.AddWorkingDays(today.AddDays(-back), 20) != next; back++ {
	}
	if err := story("birth", []int{back, back}, accept); err != nil {
		return err
	}
	// Overdue: a transfer accepted 45 days ago and never decided.
	return story("transfer", []int{45, 45}, accept)
}

// seedQueue replays the last working day's counter traffic: hourly
// arrivals and service times shaped on the recorded queues of
// shared/data/queues (Warsaw district offices' residence-registration and
// ID-card queues, weekday means per hour), scaled to a small station.
func seedQueue(ctx context.Context, h *hall, cat map[string]domain.Service, cal *calendar.Calendar, today calendar.Date, loc *time.Location) error {
	day := today.AddDays(-1)
	for !cal.IsWorkingDay(day) {
		day = day.AddDays(-1)
	}
	perHour := map[int][2]int{9: {5, 4}, 10: {6, 6}, 11: {6, 6}, 13: {5, 6}, 14: {6, 7}, 15: {3, 6}, 16: {1, 2}} // household, license
	rng := rand.New(rand.NewPCG(uint64(day.Year), uint64(day.Month)*31+uint64(day.Day)))
	stream := domain.QueueStream("gulou", day)
	exec := func(at time.Time, cmd string, decide func(q *domain.Queue) ([]domain.Event, error)) error {
		_, err := command.Execute(ctx, h.h, stream, seedMeta("li.wei", domain.RoleStaff, at, stream+"-"+cmd), decide)
		return err
	}
	type arrival struct {
		at      time.Time
		service string
	}
	var arrivals []arrival
	for hour := 9; hour <= 16; hour++ {
		for kind, count := range perHour[hour] {
			for range count {
				svcs := []string{"birth", "transfer", "correction"}
				if kind == 1 {
					svcs = []string{"idcard", "permit", "passport"}
				}
				at := day.In(loc).Add(time.Duration(hour)*time.Hour + time.Duration(rng.IntN(60))*time.Minute)
				arrivals = append(arrivals, arrival{at, svcs[rng.IntN(len(svcs))]})
			}
		}
	}
	for i := range arrivals { // in time order
		for j := i + 1; j < len(arrivals); j++ {
			if arrivals[j].at.Before(arrivals[i].at) {
				arrivals[i], arrivals[j] = arrivals[j], arrivals[i]
			}
		}
	}
	opening := day.In(loc).Add(9 * time.Hour)
	counters := map[string][]string{"w1": {"birth", "transfer", "correction"}, "w2": nil, "w3": {"idcard", "idcard-temp", "permit", "passport"}}
	for id := range counters {
		if err := exec(opening, "open-"+id, func(q *domain.Queue) ([]domain.Event, error) {
			svcs := counters[id]
			if svcs == nil {
				for s := range cat {
					svcs = append(svcs, s)
				}
			}
			return q.OpenCounter(id, svcs, svcs) // as the setup configures them
		}); err != nil {
			return err
		}
	}
	free := map[string]time.Time{"w1": opening, "w2": opening, "w3": opening}
	for i, a := range arrivals {
		ticket := fmt.Sprintf("demo-t%03d", i)
		priority := domain.Normal
		if i%9 == 4 {
			priority = domain.Elderly
		}
		if err := exec(a.at, "issue-"+ticket, func(q *domain.Queue) ([]domain.Event, error) {
			return q.Issue(ticket, a.service, cat[a.service].Prefix(), priority, "", false, a.at)
		}); err != nil {
			return err
		}
	}
	// Each counter, whenever free, calls the next ticket it may serve.
	for served := 0; served < len(arrivals); served++ {
		counter, at := "", time.Time{}
		for _, id := range []string{"w1", "w2", "w3"} {
			if counter == "" || free[id].Before(at) {
				counter, at = id, free[id]
			}
		}
		var called string
		err := exec(at, fmt.Sprintf("call-%d", served), func(q *domain.Queue) ([]domain.Event, error) {
			var next *domain.Ticket
			k, _ := q.Counter(counter)
			for _, t := range q.Waiting(k.Services...) {
				if !t.At.After(at) {
					next = &t
					break
				}
			}
			if next == nil {
				return nil, nil
			}
			called = next.TicketID
			return q.Call(counter, next.Number, at)
		})
		if err != nil {
			return err
		}
		if called == "" { // nobody waiting yet: wait for the next arrival
			free[counter] = at.Add(3 * time.Minute)
			served--
			if at.After(day.In(loc).Add(18 * time.Hour)) {
				break
			}
			continue
		}
		minutes := 6 + rng.IntN(10)
		if counter == "w3" {
			minutes += 8 // ID-card and passport applications take photos and fingerprints
		}
		end := at.Add(time.Duration(minutes) * time.Minute)
		if served%17 == 16 {
			if err := exec(at.Add(3*time.Minute), "no-show-"+called, func(q *domain.Queue) ([]domain.Event, error) { return q.NoShow(counter, at.Add(3*time.Minute)) }); err != nil {
				return err
			}
			free[counter] = at.Add(3 * time.Minute)
			continue
		}
		if err := exec(at.Add(time.Minute), "start-"+called, func(q *domain.Queue) ([]domain.Event, error) { return q.Start(counter, at.Add(time.Minute)) }); err != nil {
			return err
		}
		if err := exec(end, "complete-"+called, func(q *domain.Queue) ([]domain.Event, error) { return q.Complete(counter, end) }); err != nil {
			return err
		}
		free[counter] = end
	}
	return nil
}
