// Package web holds the pages people use (resident booking, kiosk, counter
// console, hall board, manager dashboard, admin console), embedded into the binary. They
// are plain HTML with small JavaScript modules over the HTTP API: no build
// step, no framework, nothing fetched from elsewhere.
package web

// The board's spoken-call clips (static/voice), made with espeak-ng.
//go:generate go run ./voicegen

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed pages static
var files embed.FS

// Pages maps each page's path to its file.
var Pages = map[string]string{
	"/":          "pages/index.html",
	"/kiosk":     "pages/kiosk.html",
	"/counter":   "pages/counter.html",
	"/board":     "pages/board.html",
	"/dashboard": "pages/dashboard.html",
	"/admin":     "pages/admin.html",
	// A printed ticket's QR code opens this on a phone: ?t= the signed
	// reference of the ticket (GET /api/v1/tickets/{ref}/live).
	"/ticket": "pages/ticket.html",
}

// Page serves one page.
func Page(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		http.ServeFileFS(w, r, files, name)
	}
}

// Static serves the stylesheet and scripts under /static/.
func Static() http.Handler {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return http.StripPrefix("/static/", http.FileServerFS(sub))
}
