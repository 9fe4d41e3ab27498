package api

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"

	"github.com/servicehall/servicehall/projections"
)

type exportQuery struct {
	StationID string `query:"station_id" description:"a bureau manager or the admin may leave it out for every station"`
	From      string `query:"from" format:"date"`
	To        string `query:"to" format:"date"`
	Basis     string `query:"basis" enum:"due,accepted,completed" description:"the day an application counts on, as in /stats/completion"`
}

// exportStats answers the dashboard's tables as one Excel workbook, a sheet
// a table, computed from the views as the JSON figures are.
func (s *Server) exportStats(c *gin.Context) {
	station, ok := scope(c, false)
	if !ok {
		return
	}
	from, to, err := span(c)
	if err != nil {
		problem(c, err)
		return
	}
	basis, err := basisOf(c)
	if err != nil {
		problem(c, err)
		return
	}
	stations, err := s.stationsOf(c, station)
	if err != nil {
		problem(c, err)
		return
	}
	ctx, q := c.Request.Context(), s.queries
	// Rows read by name, as the dashboard shows them: a service's in both
	// languages, a counter's with its station's when several are in.
	label := func(by, key string) string {
		switch by {
		case "service":
			if svc, err := s.service(c, key); err == nil {
				return svc.NameZh + " " + svc.Name
			}
		case "counter":
			st, id := station, key
			if before, after, ok := strings.Cut(key, "/"); ok {
				st, id = before, after
			}
			if v, ok, err := q.Station(ctx, st); err == nil && ok {
				for _, k := range v.Counters {
					if k.ID == id {
						if st != station {
							return v.Name + " " + k.Name
						}
						return k.Name
					}
				}
			}
		}
		return key
	}
	book := excelize.NewFile()
	defer book.Close()
	sheet := func(name string, head []string, rows [][]any) error {
		if _, err := book.NewSheet(name); err != nil {
			return err
		}
		if err := book.SetSheetRow(name, "A1", &head); err != nil {
			return err
		}
		for i, r := range rows {
			if err := book.SetSheetRow(name, fmt.Sprintf("A%d", i+2), &r); err != nil {
				return err
			}
		}
		return book.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	}
	rateHead := []string{"分组 Group", "应办结 Due", "已办结 Concluded", "按时办结 On time", "逾期 Overdue", "批准 Approved", "不予许可 Refused", "撤回 Withdrawn",
		"办结率 Completion rate", "按时办结率 On-time rate", "批准率 Approval rate"}
	for _, by := range []struct{ by, name string }{{"service", "办结率-业务 by service"}, {"day", "办结率-日 by day"}, {"counter", "办结率-窗口 by counter"}, {"clerk", "办结率-经办人 by clerk"}} {
		rates, err := q.CompletionRates(ctx, projections.CompletionQuery{Station: station, From: from, To: to, By: by.by, Basis: basis, Loc: s.loc})
		if err != nil {
			problem(c, err)
			return
		}
		rows := make([][]any, 0, len(rates))
		for _, r := range rates {
			rows = append(rows, []any{label(by.by, r.Key), r.Due, r.Completed, r.OnTime, r.Overdue, r.Approved, r.Rejected, r.Withdrawn, r.CompletionRate, r.OnTimeRate, r.ApprovalRate})
		}
		if err := sheet(by.name, rateHead, rows); err != nil {
			problem(c, err)
			return
		}
	}
	queueHead := []string{"分组 Group", "取号 Tickets", "已服务 Served", "过号 No-shows", "平均等候 Avg wait (min)", "P50 等候 (min)", "P90 等候 (min)", "平均办理 Avg service (min)"}
	for _, by := range []struct{ by, name string }{{"hour", "排队-小时 by hour"}, {"counter", "排队-窗口 by counter"}, {"clerk", "排队-经办人 by clerk"}} {
		_, figures, err := q.QueueReport(ctx, projections.QueueQuery{Stations: stations, From: from, To: to, By: by.by, Loc: s.loc})
		if err != nil {
			problem(c, err)
			return
		}
		rows := make([][]any, 0, len(figures))
		for _, r := range figures {
			rows = append(rows, []any{label(by.by, r.Key), r.Tickets, r.Served, r.NoShows, r.AvgWait, r.P50Wait, r.P90Wait, r.AvgService})
		}
		if err := sheet(by.name, queueHead, rows); err != nil {
			problem(c, err)
			return
		}
	}
	spread, err := q.RatingSpread(ctx, stations, from, to, s.loc)
	if err != nil {
		problem(c, err)
		return
	}
	rows := [][]any{}
	for score, n := range spread.ByScore {
		rows = append(rows, []any{fmt.Sprintf("%d 星 stars", score+1), n, "", ""})
	}
	for _, st := range spread.ByStaff {
		rows = append(rows, []any{st.Staff, st.Ratings, st.Average, st.Bad})
	}
	if err := sheet("评价 Ratings", []string{"评分或经办人 Score or clerk", "评价数 Ratings", "平均分 Average", "差评 Bad"}, rows); err != nil {
		problem(c, err)
		return
	}
	book.DeleteSheet("Sheet1")
	name := fmt.Sprintf("servicehall-%s-%s-%s.xlsx", cmp.Or(station, "all"), from, to)
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, name))
	c.Status(http.StatusOK)
	c.Header("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	if err := book.Write(c.Writer); err != nil {
		c.Error(err) // the answer has begun: it can only be logged
	}
}
