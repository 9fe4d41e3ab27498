package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// The desk's worklist, the decisions' texts, two time limits, pickup.
func TestDecisionsAndWorklistOverHTTP(t *testing.T) {
	t.Parallel()
	api, _, stop := configured(t, 0,
		call{"POST", "/services", `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":false,"materials":[]}`},
		call{"POST", "/services", `{"id":"passport","name":"Ordinary passport","name_zh":"普通护照","category":"license","time_limit_days":7,"legal_limit_days":15,"legal_limit_unit":"calendar","online":true,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"POST", "/stations", `{"id":"xicheng","name":"西城派出所"}`},
		call{"POST", "/users", `{"username":"li.wei","password":"counter-pass-1","role":"staff","station_id":"gulou"}`},
		call{"POST", "/users", `{"username":"other.staff","password":"counter-pass-2","role":"staff","station_id":"xicheng"}`},
		call{"POST", "/users", `{"username":"zhao.lead","password":"manager-pass-1","role":"manager","station_id":"gulou"}`},
	)
	defer stop()
	login := func(u, p string) string {
		_, out := send(t, "POST", api+"/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, u, p))
		return out["token"].(string)
	}
	staff, other, lead := login("li.wei", "counter-pass-1"), login("other.staff", "counter-pass-2"), login("zhao.lead", "manager-pass-1")
	zhang := residentLogin(t, api, "13812345678")
	applicant := `"applicant":{"name":"张三","id_number":"33050219880702447X","phone":"13812345678"}`

	resp, out := send(t, "POST", api+"/applications", zhang, `{"station_id":"gulou","service_id":"passport","channel":"online",`+applicant+`}`)
	if resp.StatusCode != 201 {
		t.Fatalf("online application: %d %v", resp.StatusCode, out)
	}
	id := out["id"].(string)
	pos := map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}
	var list []map[string]any
	if resp := getJSONAuth(t, api+"/applications?state=submitted", staff, pos, &list); resp.StatusCode != 200 || len(list) != 1 || list[0]["id"] != id ||
		list[0]["due"] == nil || list[0]["sla"] == "" || list[0]["applicant"].(map[string]any)["name"] != "张*" {
		t.Fatalf("the online application on the desk's worklist (待受理): %d %v", resp.StatusCode, list)
	}
	for _, c := range []struct {
		token, query string
		status       int
	}{
		{staff, "?state=nonsense", 422},
		{staff, "", 422},
		{other, "?station_id=gulou&state=submitted", 404},
		{zhang, "?state=submitted", 403},
	} {
		if resp := getJSONAuth(t, api+"/applications"+c.query, c.token, nil, nil); resp.StatusCode != c.status {
			t.Fatalf("worklist %s: %d, want %d", c.query, resp.StatusCode, c.status)
		}
	}
	do := func(token, id, action, body string) (*http.Response, map[string]any) {
		return send(t, "POST", api+"/applications/"+id+"/"+action, token, body)
	}
	if resp, out := do(staff, id, "accept", ""); resp.StatusCode != 200 {
		t.Fatalf("accept: %d %v", resp.StatusCode, out)
	}
	resp, _ = do(staff, id, "request-supplement", `{"missing":["近期免冠照片","户口簿首页"]}`)
	pos = map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}
	var a map[string]any
	getJSONAuth(t, api+"/applications/"+id, zhang, pos, &a)
	if missing, _ := a["missing"].([]any); len(missing) != 2 || missing[0] != "近期免冠照片" || a["legal_deadline"] == nil {
		t.Fatalf("the resident reads what is missing (一次性告知) and the legal deadline: %v", a)
	}
	getJSONAuth(t, api+"/applications?state=supplement", staff, pos, &list)
	if len(list) != 1 || list[0]["id"] != id {
		t.Fatalf("待补正 on the worklist: %v", list)
	}
	do(staff, id, "supplement", "")
	resp, _ = do(lead, id, "extend", `{"days":3,"reason":"需外省核查"}`)
	var kept map[string]any
	getJSONAuth(t, api+"/applications/"+id, staff, map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}, &kept)
	if kept["missing"] != nil || fmt.Sprint(kept["asked_for"]) == "<nil>" {
		t.Fatalf("once the materials came, what was asked for stays for the notice: %v", kept)
	}
	pos = map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}
	a = nil // a fresh map: decoding into the old one would keep its keys
	getJSONAuth(t, api+"/applications/"+id, zhang, pos, &a)
	if ext, _ := a["extensions"].([]any); len(ext) != 1 || ext[0].(map[string]any)["reason"] != "需外省核查" || a["missing"] != nil {
		t.Fatalf("the extension's reason, shown to the resident: %v", a)
	}
	resp, _ = do(lead, id, "approve", `{"note":"材料齐全"}`)
	getJSONAuth(t, api+"/applications?state=approved", staff, map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}, &list)
	if len(list) != 1 || list[0]["id"] != id {
		t.Fatalf("待办结 on the worklist: %v", list)
	}
	do(staff, id, "complete", "")
	if resp, out := do(staff, id, "collect", ""); resp.StatusCode != 409 {
		t.Fatalf("collect before it is ready: %d %v", resp.StatusCode, out)
	}
	if resp, out := do(staff, id, "ready", `{"where":"3号窗口"}`); resp.StatusCode != 200 {
		t.Fatalf("ready: %d %v", resp.StatusCode, out)
	} else {
		getJSONAuth(t, api+"/applications?state=ready", staff, map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}, &list)
		if len(list) != 1 || list[0]["id"] != id || list[0]["time_limit_unit"] == nil {
			t.Fatalf("待领取 on the worklist: %v", list)
		}
	}
	resp, _ = do(staff, id, "collect", "")
	if resp.StatusCode != 200 {
		t.Fatalf("collect: %d", resp.StatusCode)
	}
	pos = map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}
	a = nil
	getJSONAuth(t, api+"/applications/"+id, zhang, pos, &a)
	if a["collect_at"] != "3号窗口" || a["collected"] == nil || a["note"] != "材料齐全" {
		t.Fatalf("after collection: %v", a)
	}

	// A refusal's reason, for the resident and in the audit.
	// The ticket an application came in on is one of the station's.
	if resp, out := send(t, "POST", api+"/applications", staff, `{"station_id":"gulou","service_id":"birth","channel":"counter","ticket_id":"t-nope",`+applicant+`}`); resp.StatusCode != 422 {
		t.Fatalf("an application on a ticket nobody issued: %d %v", resp.StatusCode, out)
	}
	resp, out = send(t, "POST", api+"/applications", staff, `{"station_id":"gulou","service_id":"birth","channel":"counter",`+applicant+`}`)
	refused := out["id"].(string)
	do(staff, refused, "accept", "")
	resp, _ = do(staff, refused, "reject", `{"reason":"不符合落户条件"}`)
	pos = map[string]string{"X-Min-Position": resp.Header.Get("X-Position")}
	a = nil
	getJSONAuth(t, api+"/applications/"+refused, zhang, pos, &a)
	if a["reason"] != "不符合落户条件" {
		t.Fatalf("the refusal's reason: %v", a)
	}
	var trail []map[string]any
	getJSONAuth(t, api+"/audit?stream=application-"+refused, lead, nil, &trail)
	last := trail[len(trail)-1]
	if last["type"] != "ApplicationRejected" || !strings.Contains(fmt.Sprint(last["detail"]), "不符合落户条件") {
		t.Fatalf("the audit shows what was decided: %v", last)
	}
	getJSONAuth(t, api+"/applications?state=completed", staff, pos, &list)
	if len(list) != 2 {
		t.Fatalf("concluded (办结): approved-and-completed and refused: %v", list)
	}
	getJSONAuth(t, api+"/applications?state=ready", staff, pos, &list)
	if len(list) != 0 {
		t.Fatalf("collected, still 待领取: %v", list)
	}
}
