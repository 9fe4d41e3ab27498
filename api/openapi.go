package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
)

// endpoint documents one route: what it does and who may call it ("" is
// anyone, without a token). The OpenAPI document is built from the router's
// routes and this table; a test fails when a route is missing here or an
// entry names no route, and the role matrix test holds the roles to what
// the server enforces.
type endpoint struct {
	summary string
	roles   string // space-separated; empty: no token needed
}

const (
	everyone = "resident staff manager admin"
	desk     = "staff manager"
)

var endpoints = map[string]endpoint{
	"GET /healthz":                                      {"The process is up (存活检查)", ""},
	"GET /readyz":                                       {"The log answers and every projection is caught up (就绪检查)", ""},
	"GET /metrics":                                      {"Prometheus metrics (监控指标)", ""},
	"GET /openapi.json":                                 {"This document (接口文档)", ""},
	"POST /api/v1/auth/login":                           {"Log in with a password: staff, manager, admin (密码登录)", ""},
	"POST /api/v1/auth/otp":                             {"Send a resident a one-time code (发送验证码)", ""},
	"POST /api/v1/auth/verify":                          {"Log a resident in with the code (验证码登录)", ""},
	"GET /api/v1/services":                              {"The service catalogue (业务目录)", ""},
	"POST /api/v1/services":                             {"Define a service (定义业务)", "admin"},
	"GET /api/v1/stations":                              {"The stations (派出所列表)", ""},
	"GET /api/v1/stations/:id":                          {"A station with counters and hours (派出所详情)", ""},
	"POST /api/v1/stations":                             {"Register a station (新增派出所)", "admin"},
	"POST /api/v1/stations/:id/counters":                {"Add a counter (新增窗口)", "admin"},
	"PUT /api/v1/stations/:id/hours":                    {"Set weekly hours and weekend windows; releases the horizon's slots (设置办公时间)", "admin"},
	"PUT /api/v1/calendar/:year":                        {"Import a year's official holiday calendar (导入节假日)", "admin"},
	"GET /api/v1/calendar/working-days":                 {"Working days between two dates, with reasons (工作日查询)", ""},
	"GET /api/v1/calendar/deadline":                     {"The deadline N working days after a day (期限计算)", ""},
	"POST /api/v1/users":                                {"Create a user (新增用户)", "admin"},
	"GET /api/v1/stations/:id/availability":             {"Free places per slot (可约时段)", ""},
	"GET /api/v1/stations/:id/board":                    {"The hall board's calls, as server-sent events (叫号大屏)", ""},
	"POST /api/v1/appointments":                         {"Book an appointment (预约)", everyone},
	"GET /api/v1/appointments/:id":                      {"An appointment (预约详情)", everyone},
	"POST /api/v1/appointments/:id/cancel":              {"Cancel (取消预约)", everyone},
	"POST /api/v1/appointments/:id/reschedule":          {"Move to another slot (改约)", everyone},
	"POST /api/v1/appointments/:id/check-in":            {"Check in on arrival: a ticket (签到取号)", everyone},
	"GET /api/v1/me/appointments":                       {"My appointments (我的预约)", "resident"},
	"GET /api/v1/me/applications":                       {"My applications (我的办件)", "resident"},
	"POST /api/v1/stations/:id/tickets":                 {"A walk-in ticket (现场取号)", "staff manager admin"},
	"GET /api/v1/stations/:id/queue":                    {"The day's queue with estimated waits (当日队列)", "staff manager admin"},
	"POST /api/v1/counters/:id/open":                    {"Open a counter for service lines (开窗)", "staff"},
	"POST /api/v1/counters/:id/call-next":               {"Call the next ticket; 204 when none waits (叫下一位)", "staff"},
	"POST /api/v1/counters/:id/call":                    {"Call a given number (指定叫号)", "staff"},
	"POST /api/v1/counters/:id/recall":                  {"Call the current ticket again (重呼)", "staff"},
	"POST /api/v1/counters/:id/start":                   {"The resident came: service starts (开始办理)", "staff"},
	"POST /api/v1/counters/:id/complete":                {"Done with the current ticket (办结)", "staff"},
	"POST /api/v1/counters/:id/no-show":                 {"The called resident did not come (过号)", "staff"},
	"POST /api/v1/counters/:id/park":                    {"Set the current ticket aside (暂挂)", "staff"},
	"POST /api/v1/counters/:id/resume":                  {"Take a parked ticket back (恢复)", "staff"},
	"POST /api/v1/counters/:id/transfer":                {"Send the ticket to another service line (转办)", "staff"},
	"POST /api/v1/counters/:id/pause":                   {"Pause the counter (暂停)", "staff"},
	"POST /api/v1/counters/:id/close":                   {"Close the counter (关窗)", "staff"},
	"POST /api/v1/applications":                         {"Submit an application (提交办件)", everyone},
	"GET /api/v1/applications/:id":                      {"An application with deadline, escalation and history (办件详情)", everyone},
	"POST /api/v1/applications/:id/accept":              {"Accept: the clock starts (受理)", desk},
	"POST /api/v1/applications/:id/request-supplement":  {"Ask for missing materials: the clock stops (一次性告知补正)", desk},
	"POST /api/v1/applications/:id/supplement":          {"Materials received: the clock restarts (补正)", desk},
	"POST /api/v1/applications/:id/approve":             {"Approve (批准)", desk},
	"POST /api/v1/applications/:id/reject":              {"Reject with a reason (不予办理)", desk},
	"POST /api/v1/applications/:id/complete":            {"Complete (办结)", desk},
	"POST /api/v1/applications/:id/extend":              {"Extend the deadline (延期)", "manager"},
	"POST /api/v1/applications/:id/withdraw":            {"Withdraw (撤回)", everyone},
	"POST /api/v1/applications/:id/rate":                {"Rate the service 1–5 (好差评)", "resident"},
	"POST /api/v1/applications/:id/remediation/verify":  {"Remediation of a bad rating: verify (差评核实)", desk},
	"POST /api/v1/applications/:id/remediation/rectify": {"Remediation: rectify (差评整改)", desk},
	"POST /api/v1/applications/:id/remediation/reply":   {"Remediation: reply to the resident (差评回访)", desk},
	"GET /api/v1/stats/completion":                      {"Completion and on-time rates by service, day or month; as_of for a past view (办结率)", "manager admin"},
	"GET /api/v1/stats/queue":                           {"A day's tickets, served, no-shows, waits (排队统计)", "manager admin"},
	"GET /api/v1/sla":                                   {"Open applications with deadlines and escalation (时限监控)", "manager admin"},
	"GET /api/v1/audit":                                 {"Who decided what, by stream or by actor (审计)", "manager admin"},
	"GET /api/v1/admin/projections":                     {"Projections with position and lag (投影状态)", "admin"},
	"POST /api/v1/admin/projections/:name/rebuild":      {"Rebuild a projection blue/green (重建投影)", "admin"},
	"GET /api/v1/admin/jobs":                            {"Jobs with schedule, last and next run (定时任务)", "admin"},
	"POST /api/v1/admin/jobs/:name/run":                 {"Run a job now (立即执行任务)", "admin"},
}

// documented says whether a route belongs in the API document: the pages
// and their files do not.
func documented(path string) bool {
	return strings.HasPrefix(path, "/api/") || slices.Contains([]string{"/healthz", "/readyz", "/metrics", "/openapi.json"}, path)
}

// openAPI describes routes as an OpenAPI 3.1 document.
func openAPI(routes gin.RoutesInfo) map[string]any {
	paths := map[string]map[string]any{}
	for _, r := range routes {
		if !documented(r.Path) {
			continue
		}
		e := endpoints[r.Method+" "+r.Path]
		var params []map[string]any
		var path []string
		for _, part := range strings.Split(r.Path, "/") {
			if name, ok := strings.CutPrefix(part, ":"); ok {
				params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
				part = "{" + name + "}"
			}
			path = append(path, part)
		}
		op := map[string]any{
			"summary":     e.summary,
			"operationId": strings.ToLower(r.Method) + strings.NewReplacer("/api/v1", "", "/", "_", ":", "", "-", "_", ".", "_").Replace(r.Path),
			"responses": map[string]any{
				"default": map[string]any{"description": "A problem (RFC 9457)", "content": map[string]any{"application/problem+json": map[string]any{}}},
				"200":     map[string]any{"description": "OK"},
			},
		}
		if params != nil {
			op["parameters"] = params
		}
		if e.roles != "" {
			op["security"] = []map[string][]string{{"bearer": {}}}
			op["x-roles"] = strings.Fields(e.roles)
		}
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			op["requestBody"] = map[string]any{"required": false, "content": map[string]any{"application/json": map[string]any{}}}
		}
		p := strings.Join(path, "/")
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(r.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "servicehall", "version": "1",
			"description": "Appointments and counters for a public-security service hall (派出所户籍与证照窗口). Errors are application/problem+json; writes answer X-Position; reads honour X-Min-Position; creating POSTs honour Idempotency-Key."},
		"components": map[string]any{"securitySchemes": map[string]any{"bearer": map[string]string{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
		"paths":      paths,
	}
}
