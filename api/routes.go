package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	openapi "github.com/swaggest/openapi-go"
	"github.com/swaggest/openapi-go/openapi31"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/domain"
	"github.com/servicehall/servicehall/domain/calendar"
	"github.com/servicehall/servicehall/jobs"
	"github.com/servicehall/servicehall/projections"
	"github.com/servicehall/servicehall/webhooks"
)

// route is one operation: how it is served and how it is documented, from
// the same types. The router is built from the table, and so is the OpenAPI
// document; the role matrix test holds both to what the server enforces.
type route struct {
	method, path, summary string
	roles                 []string // who may call; nil: anyone, without a token
	in                    any      // the request body's type
	query                 any      // the query parameters, as a struct with query tags
	out                   any      // the success body's type
	status                int      // the success status (default 200)
	limited               bool     // an abuse limit may answer 429
	pre                   []gin.HandlerFunc
	handle                gin.HandlerFunc
}

var (
	everyone = []string{domain.RoleResident, domain.RoleStaff, domain.RoleManager, domain.RoleAdmin}
	desk     = []string{domain.RoleStaff, domain.RoleManager}
	hallRole = []string{domain.RoleStaff, domain.RoleManager, domain.RoleAdmin}
	arrival  = []string{domain.RoleStaff, domain.RoleManager, domain.RoleKiosk} // at the hall only
	issuers  = []string{domain.RoleStaff, domain.RoleManager, domain.RoleAdmin, domain.RoleKiosk}
	heads    = []string{domain.RoleManager, domain.RoleAdmin}
	staff    = []string{domain.RoleStaff}
	admins   = []string{domain.RoleAdmin}
	resident = []string{domain.RoleResident}
	raters   = []string{domain.RoleResident, domain.RoleKiosk} // a visit's resident, or the hall's kiosk for them
)

// Query parameters, as the document describes them.
type (
	spanQuery struct {
		From string `query:"from" format:"date" required:"true"`
		To   string `query:"to" format:"date" required:"true"`
	}
	availabilityQuery struct {
		ServiceID string `query:"service_id" required:"true"`
		spanQuery
	}
	deadlineQuery struct {
		Accepted    string `query:"accepted" format:"date" required:"true"`
		WorkingDays int    `query:"working_days" required:"true"`
	}
	completionQuery struct {
		StationID string `query:"station_id" description:"a bureau manager or the admin may leave it out for every station"`
		spanQuery
		By    string `query:"by" enum:"service,day,month,station,counter,clerk" description:"station: ranked by completion rate; counter: the one whose ticket the application came in on (online, or none without a ticket); clerk: who accepted it"`
		Basis string `query:"basis" enum:"due,accepted,completed" description:"the day an application counts on: its deadline (default), its acceptance, or its conclusion or withdrawal"`
		AsOf  string `query:"as_of" description:"a date (the end of that day) or an RFC 3339 instant: the view as it stood then"`
	}
	ratingsQuery struct {
		StationID string `query:"station_id" description:"a bureau manager or the admin may leave it out for every station"`
		From      string `query:"from" format:"date"`
		To        string `query:"to" format:"date"`
		AsOf      string `query:"as_of" description:"a date (the end of that day) or an RFC 3339 instant: the figures as they stood then"`
	}
	queueStatsQuery struct {
		StationID string `query:"station_id" description:"a bureau manager or the admin may leave it out for every station"`
		Date      string `query:"date" format:"date" description:"one day; or from and to"`
		From      string `query:"from" format:"date"`
		To        string `query:"to" format:"date"`
		By        string `query:"by" enum:"service,counter,clerk,station,hour" description:"counter and clerk: who last called or served the ticket; station: ranked by average wait; hour: the hour a ticket was issued, in the stations' zone (\"09\")"`
		AsOf      string `query:"as_of" description:"a date (the end of that day) or an RFC 3339 instant: the view as it stood then"`
	}
	asOfQuery struct {
		AsOf string `query:"as_of" description:"a date (the end of that day) or an RFC 3339 instant: the application as it stood then"`
	}
	estimatesQuery struct {
		StationID string `query:"station_id"`
		spanQuery
	}
	slaQuery struct {
		StationID string `query:"station_id"`
		State     string `query:"state"`
		AsOf      string `query:"as_of" description:"a date (the end of that day) or an RFC 3339 instant: the list as it stood then"`
	}
	auditQuery struct {
		Stream  string `query:"stream"`
		Actor   string `query:"actor"`
		Station string `query:"station_id"`
	}
	statusOut struct {
		Status string `json:"status"`
	}
	readyOut struct {
		Ready       bool              `json:"ready"`
		Projections []projectionState `json:"projections"`
	}
	projectionState struct {
		Name     string `json:"name"`
		Position uint64 `json:"position"`
		Lag      uint64 `json:"lag"`
		Error    string `json:"error,omitempty"`
	}
	jobRun struct {
		Name   string `json:"name"`
		Result string `json:"result"`
	}
	rebuildStarted struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	}
)

func (s *Server) routes() []route {
	post := func(path, summary string, roles []string, in, out any, handle gin.HandlerFunc) route {
		return route{method: http.MethodPost, path: path, summary: summary, roles: roles, in: in, out: out, handle: handle}
	}
	get := func(path, summary string, roles []string, query, out any, handle gin.HandlerFunc) route {
		return route{method: http.MethodGet, path: path, summary: summary, roles: roles, query: query, out: out, handle: handle}
	}
	created := func(r route) route { r.status = http.StatusCreated; return r }
	accepted := func(r route) route { r.status = http.StatusAccepted; return r }
	limit := func(r route, l *limiter, key func(*gin.Context) string) route {
		r.pre, r.limited = append(r.pre, s.limit(l, key)), true
		return r
	}
	const v1 = "/api/v1"
	return []route{
		get("/healthz", "The process is up (存活检查)", nil, nil, statusOut{}, func(c *gin.Context) { c.JSON(http.StatusOK, statusOut{"ok"}) }),
		get("/readyz", "The log answers and every projection is caught up (就绪检查)", nil, nil, readyOut{}, s.ready),
		get("/metrics", "Prometheus metrics (监控指标)", nil, nil, nil, gin.WrapH(promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))),
		get("/openapi.json", "This document (接口文档)", nil, nil, nil, s.document),

		limit(post(v1+"/auth/login", "Log in with a password: staff, kiosk, manager, admin (密码登录)", nil, loginRequest{}, tokenOut{}, s.login), s.limits.loginByClient, byClient),
		func() route {
			r := limit(post(v1+"/auth/otp", "Send a resident a one-time code (发送验证码)", nil, phoneRequest{}, codeSent{}, s.sendCode), s.limits.otpByClient, byClient)
			r.status = http.StatusAccepted
			return r
		}(),
		limit(post(v1+"/auth/verify", "Log a resident in with the code (验证码登录)", nil, phoneRequest{}, tokenOut{}, s.verifyCode), s.limits.loginByClient, byClient),

		get(v1+"/services", "The service catalogue (业务目录)", nil, nil, []domain.Service{}, s.services),
		created(post(v1+"/services", "Define a service (定义业务)", admins, domain.Service{}, domain.Service{}, s.defineService)),
		get(v1+"/stations", "The stations (派出所列表)", nil, nil, []projections.StationView{}, s.stations),
		get(v1+"/stations/:id", "A station with counters, hours and booking notes (派出所详情与预约须知)", nil, nil, stationOut{}, s.station),
		created(post(v1+"/stations", "Register a station (新增派出所)", admins, stationRequest{}, stationRequest{}, s.registerStation)),
		created(post(v1+"/stations/:id/counters", "Add a counter (新增窗口)", admins, domain.Counter{}, domain.Counter{}, s.addCounter)),
		{method: http.MethodPut, path: v1 + "/stations/:id/hours", summary: "Set weekly hours and weekend windows; releases the horizon's slots (设置办公时间)", roles: admins, in: command.Hours{}, handle: s.setHours},
		post(v1+"/stations/:id/hours/preview", "The slots given hours would release on each day from from to to, by the release's own rules; nothing is written (开放时段预览)", admins, previewRequest{}, previewOut{}, s.previewHours),
		{method: http.MethodPut, path: v1 + "/calendar/:year", summary: "Import a year's official holiday calendar (导入节假日)", roles: admins, in: calendar.Notice{}, handle: s.importCalendar},
		get(v1+"/calendar/working-days", "Working days between two dates, with reasons (工作日查询)", nil, spanQuery{}, nil, s.workingDays),
		get(v1+"/calendar/deadline", "The deadline N working days after a day (期限计算)", nil, deadlineQuery{}, nil, s.deadline),
		get(v1+"/users", "The logins with role, station and whether disabled; never a password (用户列表)", admins, nil, []projections.UserView{}, s.userList),
		created(post(v1+"/users", "Create a user (新增用户)", admins, userRequest{}, nil, s.createUser)),
		{method: http.MethodPatch, path: v1 + "/users/:name", summary: "Disable or enable a user, or set a password; their earlier tokens stop working (停用、启用、重设密码)", roles: admins, in: command.UserChange{}, out: userOut{}, handle: s.changeUser},
		post(v1+"/stations/:id/closures", "Close released slots of a day, or part of it; their bookings are cancelled and the residents told (临时闭厅)", heads, closureRequest{}, closureOut{}, s.closeSlots),
		get(v1+"/stations/:id/availability", "Free places per slot (可约时段)", nil, availabilityQuery{}, []slotRow{}, s.availability),
		get(v1+"/stations/:id/board", "The hall board's calls, as server-sent events (叫号大屏)", nil, nil, nil, s.board),

		limit(created(post(v1+"/appointments", "Book an appointment (预约)", everyone, bookRequest{}, bookedOut{}, s.book)), s.limits.bookByResident, byCaller),
		limit(created(post(v1+"/waitlist", "Join a full slot's waitlist: a freed place is held for the first person waiting (候补登记)", everyone, bookRequest{}, waitlistOut{}, s.joinWaitlist)), s.limits.bookByResident, byCaller),
		get(v1+"/appointments/:id", "An appointment (预约详情)", everyone, nil, appointmentOut{}, s.appointment),
		get(v1+"/appointments/:id/qr", "The check-in code as a QR code, PNG (签到二维码)", everyone, nil, nil, s.checkInQR),
		get(v1+"/appointments/:id/ics", "The booking as a calendar file, iCalendar (加入日历)", everyone, nil, nil, s.calendarFile),
		post(v1+"/appointments/:id/cancel", "Cancel (取消预约)", everyone, cancelRequest{}, appointmentStatus{}, s.cancel),
		post(v1+"/appointments/:id/reschedule", "Move to another slot (改约)", everyone, rescheduleRequest{}, appointmentStatus{}, s.reschedule),
		post(v1+"/stations/:id/check-in", "Check in at the hall by the booking's short code, or by the ID number (a card reader's) for that person's booking here today; exactly one of the two: a ticket (签到码或身份证签到)", arrival, codeRequest{}, checkInOut{}, s.checkInByCode),
		post(v1+"/appointments/:id/check-in", "Check in on arrival: a ticket (签到取号)", arrival, nil, checkInOut{}, s.checkIn),
		get(v1+"/me/appointments", "My appointments (我的预约)", resident, nil, []appointmentOut{}, s.myAppointments),
		get(v1+"/me/applications", "My applications (我的办件)", resident, nil, []applicationOut{}, s.myApplications),
		accepted(post(v1+"/me/erase", "Erase my details: every person I booked or applied for; live appointments from today on are cancelled (删除我的个人信息)", resident, nil, erasedOut{}, s.eraseMe)),
		accepted(post(v1+"/admin/erasures", "Erase the details of the person an ID number names (删除个人信息)", admins, erasureRequest{}, erasedOut{}, s.eraseByID)),

		created(post(v1+"/stations/:id/tickets", "A walk-in ticket (现场取号)", issuers, ticketRequest{}, issuedOut{}, s.issueTicket)),
		post(v1+"/stations/:id/walk-ins/stop", "Stop walk-in tickets for the rest of the day (停止现场取号)", desk, stopRequest{}, nil, s.stopWalkIns),
		get(v1+"/stations/:id/queue", "The day's queue with estimated waits (当日队列)", hallRole, nil, nil, s.queue),
		post(v1+"/counters/:id/open", "Open a counter for service lines (开窗)", staff, command.OpenCounter{}, counterOut{}, atCounter[command.OpenCounter](s)),
		post(v1+"/counters/:id/call-next", "Call the next ticket; 204 when none waits (叫下一位)", staff, nil, counterOut{}, atCounter[command.CallNext](s)),
		post(v1+"/counters/:id/call", "Call a given number (指定叫号)", staff, command.Call{}, counterOut{}, atCounter[command.Call](s)),
		post(v1+"/counters/:id/recall", "Call the current ticket again (重呼)", staff, nil, counterOut{}, atCounter[command.Recall](s)),
		post(v1+"/counters/:id/start", "The resident came: service starts (开始办理)", staff, nil, counterOut{}, atCounter[command.StartService](s)),
		post(v1+"/counters/:id/complete", "Done with the current ticket (办结)", staff, nil, counterOut{}, atCounter[command.Complete](s)),
		post(v1+"/counters/:id/no-show", "The called resident did not come (过号)", staff, nil, counterOut{}, atCounter[command.MissedCall](s)),
		post(v1+"/counters/:id/park", "Set the current ticket aside (暂挂)", staff, nil, counterOut{}, atCounter[command.Park](s)),
		post(v1+"/counters/:id/resume", "Take a parked ticket back (恢复)", staff, command.Resume{}, counterOut{}, atCounter[command.Resume](s)),
		post(v1+"/counters/:id/transfer", "Send the ticket to another service line (转办)", staff, command.Transfer{}, counterOut{}, atCounter[command.Transfer](s)),
		post(v1+"/counters/:id/pause", "Pause the counter (暂停)", staff, nil, counterOut{}, atCounter[command.PauseCounter](s)),
		post(v1+"/counters/:id/close", "Close the counter (关窗)", staff, nil, counterOut{}, atCounter[command.CloseCounter](s)),

		created(post(v1+"/applications", "Submit an application (提交办件)", everyone, applyRequest{}, applicationStatus{}, s.apply)),
		get(v1+"/applications", "The desk's worklist: a station's applications in one state, the most urgent first (待办列表)", desk, worklistQuery{}, []worklistRow{}, s.worklist),
		get(v1+"/applications/:id", "An application with deadline, escalation and history; as_of for a past view (办件详情)", everyone, asOfQuery{}, nil, s.application),
		post(v1+"/applications/:id/accept", "Accept: the clock starts (受理)", desk, nil, applicationStatus{}, onApplication[command.Accept](s, nil)),
		post(v1+"/applications/:id/request-supplement", "Ask for missing materials: the clock stops (一次性告知补正)", desk, command.RequestSupplement{}, applicationStatus{}, onApplication[command.RequestSupplement](s, nil)),
		post(v1+"/applications/:id/supplement", "Materials received: the clock restarts (补正)", desk, nil, applicationStatus{}, onApplication[command.ReceiveSupplement](s, nil)),
		post(v1+"/applications/:id/approve", "Approve (批准)", desk, command.Approve{}, applicationStatus{}, onApplication[command.Approve](s, nil)),
		post(v1+"/applications/:id/reject", "Reject with a reason (不予办理)", desk, command.Reject{}, applicationStatus{}, onApplication[command.Reject](s, nil)),
		post(v1+"/applications/:id/complete", "Complete (办结)", desk, nil, applicationStatus{}, onApplication[command.CompleteApplication](s, nil)),
		post(v1+"/applications/:id/extend", "Extend the deadline (延期)", []string{domain.RoleManager}, command.Extend{}, applicationStatus{}, onApplication[command.Extend](s, nil)),
		post(v1+"/applications/:id/ready", "The document can be collected; the applicant is told (待领取)", desk, command.MarkReady{}, applicationStatus{}, onApplication[command.MarkReady](s, nil)),
		post(v1+"/applications/:id/collect", "The applicant took the document (已领取)", desk, nil, applicationStatus{}, onApplication[command.Collect](s, nil)),
		post(v1+"/applications/:id/withdraw", "Withdraw (撤回)", everyone, nil, applicationStatus{}, onApplication[command.Withdraw](s, func(c *gin.Context, w *command.Withdraw) { w.AtDesk = who(c).Role != domain.RoleResident })),
		post(v1+"/applications/:id/rate", "Rate the service 1–5 (好差评)", resident, command.Rate{}, applicationStatus{}, onApplication[command.Rate](s, nil)),
		s.remediation("verify", "Remediation of a bad rating: verify (差评核实)"),
		s.remediation("rectify", "Remediation: rectify (差评整改)"),
		s.remediation("reply", "Remediation: reply to the resident (差评回访)"),
		post(v1+"/tickets/:id/rate", "Rate a served visit 1–5, with optional attitude, efficiency and competence: its resident, or the hall's kiosk on their behalf; a bad rating opens a remediation due in 15 working days (办件好差评)", raters, command.Rate{}, ratingStatus{}, s.rateTicket),
		get(v1+"/tickets/:id/live", "A ticket's place in the day's queue, by the signed reference of its follow link (the printed ticket's QR code): number, service, state, tickets ahead, estimated wait, counter once called; no personal data (号票实时进度)", nil, nil, liveOut{}, s.liveTicket),
		get(v1+"/tickets/:id/qr", "The ticket's follow link as a QR code, PNG, by its signed reference (号票二维码)", nil, nil, nil, s.ticketQR),
		get(v1+"/tickets/:id", "A ticket with its rating and remediation (号票与评价)", everyone, nil, ticketOut{}, s.ticket),
		s.ticketRemediation("verify", "Remediation of a visit's bad rating: verify (差评核实)"),
		s.ticketRemediation("rectify", "Remediation of a visit's bad rating: rectify (差评整改)"),
		s.ticketRemediation("reply", "Remediation of a visit's bad rating: follow up with the resident, which closes it (差评回访)"),
		get(v1+"/remediations", "Remediations of bad ratings, of visits and applications, by standing (差评整改台账)", heads, remediationsQuery{}, []projections.RemediationRow{}, s.remediations),

		get(v1+"/stats/completion", "Completion, on-time and approval rates by service, day, month, station, counter or clerk; as_of for a past view (办结率)", heads, completionQuery{}, []projections.Rate{}, s.completionStats),
		get(v1+"/stats/queue", "Days' tickets, served, no-shows, waits with p50 and p90, appointments missed; by service, counter, clerk or station (排队统计)", heads, queueStatsQuery{}, queueStatsOut{}, s.queueStats),
		get(v1+"/stats/export", "The dashboard's tables as an Excel workbook: completion by service, day, counter and clerk; the queue by hour, counter and clerk; ratings (报表导出)", heads, exportQuery{}, nil, s.exportStats),
		get(v1+"/stats/ratings", "How residents rated visits and applications over days: the spread of scores, bad ratings, by clerk (好差评分布)", heads, ratingsQuery{}, projections.RatingFigures{}, s.ratingStats),
		get(v1+"/stats/estimates", "Wait estimates told at ticket issue against the waits that followed, replayed from the log (等候时间预估与实际等候的偏差)", heads, estimatesQuery{}, estimatesOut{}, s.estimateStats),
		get(v1+"/sla", "Open applications with deadlines and escalation (时限监控)", heads, slaQuery{}, nil, s.sla),
		get(v1+"/audit", "Who decided what, by stream, actor or station (审计)", heads, auditQuery{}, nil, s.audit),
		get(v1+"/admin/history", "Every configuration change, the latest first: services, stations, counters, hours, calendars, users, webhooks; who and when (配置变更记录)", admins, historyQuery{}, []projections.Entry{}, s.configHistory),
		get(v1+"/admin/projections", "Projections with position and lag (投影状态)", admins, nil, nil, s.projectionList),
		func() route {
			r := post(v1+"/admin/projections/:name/rebuild", "Rebuild a projection blue/green (重建投影)", admins, nil, rebuildStarted{}, s.rebuild)
			r.status = http.StatusAccepted
			return r
		}(),
		get(v1+"/admin/webhooks", "Outbound webhooks (事件订阅)", admins, nil, []webhookOut{}, s.webhookList),
		created(post(v1+"/admin/webhooks", "Subscribe a URL to event types: signed deliveries, at least once (新增事件订阅)", admins, webhookRequest{}, webhookOut{}, s.subscribe)),
		get(v1+"/admin/webhooks/dead-letters", "Deliveries that failed every retry (投递失败列表)", admins, nil, []domain.DeadLetter{}, s.deadLetters),
		post(v1+"/admin/webhooks/dead-letters/replay", "Deliver dead letters again (重新投递)", admins, replayRequest{}, []webhooks.Replayed{}, s.replay),
		get(v1+"/admin/jobs", "Jobs with schedule, last and next run (定时任务)", admins, nil, []jobs.Status{}, s.jobList),
		post(v1+"/admin/jobs/:name/run", "Run a job now (立即执行任务)", admins, nil, jobRun{}, s.runJob),
	}
}

func (s *Server) remediation(step, summary string) route {
	return route{method: http.MethodPost, path: "/api/v1/applications/:id/remediation/" + step, summary: summary, roles: desk,
		in: command.Remediate{}, out: applicationStatus{},
		handle: onApplication(s, func(_ *gin.Context, r *command.Remediate) { r.Step = step })}
}

// register serves the routes on r.
func (s *Server) register(r *gin.Engine, routes []route) {
	for _, rt := range routes {
		var chain []gin.HandlerFunc
		if strings.HasPrefix(rt.path, "/api/v1/") {
			chain = append(chain, s.minPosition)
		}
		if rt.roles != nil {
			chain = append(chain, s.allow(rt.roles...))
		}
		chain = append(chain, rt.pre...)
		r.Handle(rt.method, rt.path, append(chain, rt.handle)...)
	}
}

// document is the OpenAPI 3.1 document, reflected from the route table's
// types once.
func (s *Server) document(c *gin.Context) {
	s.docOnce.Do(func() { s.doc, s.docErr = openAPI(s.routes()) })
	if s.docErr != nil {
		problem(c, s.docErr)
		return
	}
	c.Data(http.StatusOK, "application/json", s.doc)
}

func openAPI(routes []route) ([]byte, error) {
	r := openapi31.NewReflector()
	spec := r.SpecEns()
	spec.Info.WithTitle("servicehall").WithVersion("1").
		WithDescription("Appointments and counters for a public-security service hall (派出所户籍与证照窗口). Errors are application/problem+json; writes answer X-Position; reads honour X-Min-Position; POSTs with a token honour Idempotency-Key.")
	spec.WithServers(openapi31.Server{URL: "/", Description: ptr("this server (本机)")})
	spec.SetHTTPBearerTokenSecurity("bearer", "JWT", "a token from /api/v1/auth/login or /api/v1/auth/verify")
	public := map[string]bool{}
	for _, rt := range routes {
		oc, err := r.NewOperationContext(rt.method, docPath(rt.path))
		if err != nil {
			return nil, err
		}
		oc.SetSummary(rt.summary)
		oc.SetID(strings.ToLower(rt.method) + strings.NewReplacer("/api/v1", "", "/", "_", ":", "", "-", "_", ".", "_").Replace(rt.path))
		op := oc.(interface{ Operation() *openapi31.Operation }).Operation()
		for _, part := range strings.Split(rt.path, "/") {
			if name, ok := strings.CutPrefix(part, ":"); ok {
				op.Parameters = append(op.Parameters, openapi31.ParameterOrReference{Parameter: &openapi31.Parameter{
					Name: name, In: openapi31.ParameterInPath, Required: ptr(true), Schema: map[string]any{"type": "string"}}})
			}
		}
		if rt.query != nil {
			oc.AddReqStructure(rt.query)
		}
		if rt.in != nil {
			oc.AddReqStructure(rt.in)
		}
		status := rt.status
		if status == 0 {
			status = http.StatusOK
		}
		if rt.out != nil {
			oc.AddRespStructure(rt.out, openapi.WithHTTPStatus(status))
		} else {
			oc.AddRespStructure(nil, openapi.WithHTTPStatus(status))
		}
		if rt.roles != nil {
			oc.AddSecurity("bearer")
			op.WithMapOfAnythingItem("x-roles", rt.roles)
		} else {
			public[rt.method+" "+docPath(rt.path)] = true
		}
		for _, code := range answers4xx(rt) {
			oc.AddRespStructure(Problem{}, openapi.WithHTTPStatus(code), openapi.WithContentType("application/problem+json"))
		}
		if err := r.AddOperation(oc); err != nil {
			return nil, fmt.Errorf("openapi: %s %s: %w", rt.method, rt.path, err)
		}
	}
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	// A public operation says so with an empty security list, which the
	// library leaves out.
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			if public[strings.ToUpper(method)+" "+path] {
				op.(map[string]any)["security"] = []any{}
			}
		}
	}
	return json.Marshal(doc)
}

// answers4xx are the client errors an operation can answer.
func answers4xx(rt route) []int {
	var codes []int
	if rt.in != nil || rt.query != nil {
		codes = append(codes, http.StatusUnprocessableEntity)
	}
	if rt.roles != nil {
		codes = append(codes, http.StatusUnauthorized, http.StatusForbidden)
	}
	if strings.Contains(rt.path, ":") {
		codes = append(codes, http.StatusNotFound)
	}
	if rt.roles != nil && rt.method == http.MethodPost {
		codes = append(codes, http.StatusConflict)
	}
	if rt.limited {
		codes = append(codes, http.StatusTooManyRequests)
	}
	if len(codes) == 0 {
		codes = append(codes, http.StatusBadRequest) // a request the router cannot take
	}
	return codes
}

// docPath writes gin's :name as OpenAPI's {name}.
func docPath(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if name, ok := strings.CutPrefix(p, ":"); ok {
			parts[i] = "{" + name + "}"
		}
	}
	return strings.Join(parts, "/")
}

func ptr[T any](v T) *T { return &v }
