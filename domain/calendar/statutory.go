package calendar

import (
	"sync"
	"time"

	lunar "github.com/6tail/lunar-go/calendar"
)

// Statutory is a year's public holidays as 《全国年节及纪念日放假办法》
// fixes them, computed: the lunar festivals through a lunar calendar, and
// the solar ones by date. It knows nothing of the make-up working days
// (调休) and bridged weekends that only the State Council's yearly notice
// sets, so it stands in for a year whose notice is not yet imported. From
// 2025 (the 2024 revision) there are 13 days: New Year's Day, Spring
// Festival from its eve to the third day, Qingming, two days of Labour
// Day, Dragon Boat, Mid-Autumn and three days of National Day; before,
// 11, without the eve and the second day of May.
func Statutory(year int) []Day {
	date := func(s *lunar.Solar) Date {
		return Date{Year: s.GetYear(), Month: time.Month(s.GetMonth()), Day: s.GetDay()}
	}
	solar := func(m, d int) Date { return Date{Year: year, Month: time.Month(m), Day: d} }
	spring := lunar.NewLunarFromYmd(year, 1, 1).GetSolar()
	days := []Day{{Name: "元旦", Date: solar(1, 1), OffDay: true}}
	first := 0
	if year >= 2025 {
		first = -1 // 除夕
	}
	for i := first; i <= 2; i++ {
		days = append(days, Day{Name: "春节", Date: date(spring.NextDay(i)), OffDay: true})
	}
	qingming := lunar.NewSolarFromYmd(year, 4, 15).GetLunar().GetJieQiTable()["清明"]
	days = append(days,
		Day{Name: "清明节", Date: date(qingming), OffDay: true},
		Day{Name: "劳动节", Date: solar(5, 1), OffDay: true})
	if year >= 2025 {
		days = append(days, Day{Name: "劳动节", Date: solar(5, 2), OffDay: true})
	}
	days = append(days,
		Day{Name: "端午节", Date: date(lunar.NewLunarFromYmd(year, 5, 5).GetSolar()), OffDay: true},
		Day{Name: "中秋节", Date: date(lunar.NewLunarFromYmd(year, 8, 15).GetSolar()), OffDay: true})
	for d := 1; d <= 3; d++ {
		days = append(days, Day{Name: "国庆节", Date: solar(10, d), OffDay: true})
	}
	return days
}

// provisional is the statutory holiday on d, if there is one: Statutory's
// days, computed once a year.
func provisional(d Date) (string, bool) {
	byDate, ok := statutory.Load(d.Year)
	if !ok {
		m := map[Date]string{}
		for _, day := range Statutory(d.Year) {
			m[day.Date] = day.Name
		}
		byDate, _ = statutory.LoadOrStore(d.Year, m)
	}
	name, ok := byDate.(map[Date]string)[d]
	return name, ok
}

var statutory sync.Map // year → map[Date]string
