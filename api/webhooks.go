package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/servicehall/servicehall/app/command"
	"github.com/servicehall/servicehall/webhooks"
)

type webhookRequest struct {
	ID         string   `json:"id,omitempty" description:"lower-case letters, digits and dashes; made up when left out"`
	URL        string   `json:"url"`
	EventTypes []string `json:"event_types"`
	Secret     string   `json:"secret" description:"16 to 200 characters; signs each delivery, never shown again"`
	Personal   bool     `json:"personal_data,omitempty" description:"residents' masked details go with the events; without it they are left out"`
}

type webhookOut struct {
	ID         string   `json:"id"`
	URL        string   `json:"url"`
	EventTypes []string `json:"event_types"`
	Personal   bool     `json:"personal_data"`
	After      uint64   `json:"after_position"`
}

type replayRequest struct {
	IDs []string `json:"ids,omitempty" description:"the dead letters to deliver again; all when left out"`
}

func (s *Server) webhookList(c *gin.Context) {
	w, err := s.hall.Webhooks(c.Request.Context())
	if err != nil {
		problem(c, err)
		return
	}
	out := []webhookOut{}
	for _, sub := range w.Subscriptions {
		out = append(out, webhookOut{sub.ID, sub.URL, sub.EventTypes, sub.Personal, sub.After})
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) subscribe(c *gin.Context) {
	var req webhookRequest
	if err := bind(c, &req); err != nil {
		problem(c, err)
		return
	}
	if req.ID == "" {
		req.ID = "hook-" + newID(c)[:8]
	}
	res, err := s.hall.Subscribe(c.Request.Context(), command.Subscription{ID: req.ID, URL: req.URL, EventTypes: req.EventTypes, Secret: req.Secret, Personal: req.Personal}, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	w, err := s.hall.Webhooks(c.Request.Context())
	if err != nil {
		problem(c, err)
		return
	}
	sub, _ := w.Subscription(req.ID)
	written(c, http.StatusCreated, res, webhookOut{sub.ID, sub.URL, sub.EventTypes, sub.Personal, sub.After})
}

func (s *Server) deadLetters(c *gin.Context) {
	w, err := s.hall.Webhooks(c.Request.Context())
	if err != nil {
		problem(c, err)
		return
	}
	c.JSON(http.StatusOK, w.Dead())
}

// replay delivers dead letters again, once each, and says which got
// through.
func (s *Server) replay(c *gin.Context) {
	var req replayRequest
	if raw, err := readBody(c); err != nil {
		problem(c, err)
		return
	} else if len(raw) > 0 {
		if err := decodeStrict(raw, &req); err != nil {
			problem(c, err)
			return
		}
	}
	out, err := webhooks.Replay(c.Request.Context(), s.app, s.hooks, req.IDs, s.meta(c))
	if err != nil {
		problem(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
