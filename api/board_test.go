package api_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// The hall board's feed says, after each change, what each counter serves
// now and which tickets were missed (过号): a missed ticket leaves the
// counter free and joins the list, a pause shows.
func TestBoardShowsCountersAndMissed(t *testing.T) {
	t.Parallel()
	api, _, _ := configured(t, 0,
		call{"POST", "/services", `{"id":"birth","name":"Birth registration","name_zh":"出生登记","category":"household","time_limit_days":20,"online":false,"materials":[]}`},
		call{"POST", "/stations", `{"id":"gulou","name":"鼓楼派出所"}`},
		call{"POST", "/stations/gulou/counters", `{"id":"w1","name":"1号窗口","service_ids":["birth"]}`},
		call{"POST", "/stations/gulou/counters", `{"id":"w2","name":"2号窗口","service_ids":["birth"]}`},
		call{"POST", "/users", `{"username":"li.wei","password":"counter-pass-1","role":"staff","station_id":"gulou"}`},
	)
	_, out := send(t, "POST", api+"/auth/login", "", `{"username":"li.wei","password":"counter-pass-1"}`)
	staff := out["token"].(string)
	do := func(path, body string) {
		t.Helper()
		if resp, out := send(t, "POST", api+path, staff, body); resp.StatusCode >= 300 {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, out)
		}
	}
	do("/stations/gulou/tickets", `{"service_id":"birth"}`)
	do("/stations/gulou/tickets", `{"service_id":"birth"}`)
	do("/counters/w1/open", `{"service_ids":["birth"]}`)
	do("/counters/w2/open", `{"service_ids":["birth"]}`)

	type hall struct {
		Counters map[string]struct {
			State  string `json:"state"`
			Number string `json:"number"`
		} `json:"counters"`
		Missed []string `json:"missed"`
	}
	resp, err := http.Get(api + "/stations/gulou/board")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("board: %v %v", resp, err)
	}
	defer resp.Body.Close()
	halls := make(chan hall, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			if e, ok := strings.CutPrefix(sc.Text(), "event:"); ok {
				event = e
			}
			if d, ok := strings.CutPrefix(sc.Text(), "data:"); ok && event == "hall" {
				var h hall
				if err := json.Unmarshal([]byte(d), &h); err != nil {
					t.Errorf("hall event %s: %v", d, err)
				}
				halls <- h
			}
		}
	}()
	// await reads hall events until one satisfies ok.
	await := func(what string, ok func(h hall) bool) {
		t.Helper()
		deadline := time.After(5 * time.Second)
		var last hall
		for {
			select {
			case h := <-halls:
				if ok(h) {
					return
				}
				last = h
			case <-deadline:
				t.Fatalf("%s: the board's last hall %+v", what, last)
			}
		}
	}
	await("both counters free", func(h hall) bool {
		return h.Counters["w1"].State == "open" && h.Counters["w1"].Number == "" && h.Counters["w2"].State == "open" && len(h.Missed) == 0
	})
	do("/counters/w1/call-next", "")
	await("w1 calls A001", func(h hall) bool { return h.Counters["w1"].Number == "A001" })
	do("/counters/w1/no-show", "")
	await("A001 missed", func(h hall) bool { return h.Counters["w1"].Number == "" && slices.Equal(h.Missed, []string{"A001"}) })
	do("/counters/w2/call-next", "")
	do("/counters/w1/pause", "")
	await("w2 on A002, w1 paused", func(h hall) bool {
		return h.Counters["w2"].Number == "A002" && h.Counters["w1"].State == "paused" && slices.Equal(h.Missed, []string{"A001"})
	})
}
