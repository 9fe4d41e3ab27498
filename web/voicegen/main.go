// Command voicegen makes the hall board's spoken-call clips under
// web/static/voice: digits, the letters of ticket prefixes and the words
// of a call, in Mandarin and English, which the board strings together
// with Web Audio when the browser has no offline voice of its own
// (speechSynthesis with voice.localService). Run it from web/ with
// `go generate` (web.go names it); it needs espeak-ng on the PATH.
//
// Why espeak-ng: it runs offline, is in every Linux distribution, and is
// free software (GPL-3.0-or-later); the GPL covers the program, not the
// sound it produces, so the generated clips carry no licence terms of the
// program. Its Mandarin voice is used as cmn-latn-pinyin: the plain cmn
// voice of espeak-ng 1.51 reads the pinyin its dictionary makes as
// English ("hao3" as "hao three", espeak-ng issue #1236).
//
// Each clip is espeak-ng's WAV (22050 Hz, 16-bit, mono) with the silence
// before and after cut, filtered and halved to 11025 Hz: a voice needs
// no more, and the clips stay small. manifest.json lists them, so the
// board speaks only what exists.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/servicehall/servicehall/domain"
)

// clip is one clip: its file name (without .wav) and what espeak-ng says.
type clip struct{ name, text string }

func main() {
	out := filepath.Join("static", "voice")
	if len(os.Args) > 1 {
		out = os.Args[1]
	}
	// The letters tickets start with, as the domain makes them.
	var letters []string
	for _, cat := range []string{domain.Household, domain.License} {
		if p := (domain.Service{Category: cat}).Prefix(); !slices.Contains(letters, p) {
			letters = append(letters, p)
		}
	}
	zh := []clip{{"qing", "请"}, {"hao", "号"}, {"dao", "到"}, {"haochuangkou", "号窗口"}, {"10", "十"}}
	for i, d := range []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"} {
		zh = append(zh, clip{fmt.Sprint(i), d})
	}
	en := []clip{{"number", "number"}, {"please", "please go to counter"}}
	for i, d := range []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"} {
		en = append(en, clip{fmt.Sprint(i), d})
	}
	for _, l := range letters {
		zh = append(zh, clip{l, l})
		en = append(en, clip{l, l})
	}
	manifest := map[string][]string{}
	for _, set := range []struct {
		lang, voice string
		clips       []clip
	}{{"zh", "cmn-latn-pinyin", zh}, {"en", "en", en}} {
		dir := filepath.Join(out, set.lang)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			log.Fatal(err)
		}
		for _, c := range set.clips {
			wav, err := speak(set.voice, c.text)
			if err != nil {
				log.Fatalf("%s %q: %v", set.lang, c.text, err)
			}
			if err := os.WriteFile(filepath.Join(dir, c.name+".wav"), wav, 0o644); err != nil {
				log.Fatal(err)
			}
			manifest[set.lang] = append(manifest[set.lang], c.name)
		}
		slices.Sort(manifest[set.lang])
	}
	js, err := json.MarshalIndent(manifest, "", " ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "manifest.json"), append(js, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
}

// speak has espeak-ng say text in voice and answers the clip.
func speak(voice, text string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("espeak-ng", "-v", voice, "-s", "145", "--stdout", text)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	rate, samples, err := readWAV(stdout.Bytes())
	if err != nil {
		return nil, err
	}
	if rate != 22050 {
		return nil, fmt.Errorf("espeak-ng answered %d Hz, want 22050", rate)
	}
	samples = trim(samples, rate)
	if len(samples) == 0 {
		return nil, errors.New("silence")
	}
	return writeWAV(rate/2, halve(samples)), nil
}

// readWAV reads a 16-bit mono PCM WAV. espeak-ng writing to a pipe leaves
// the sizes unknown (0x7fffffff): the data runs to the end.
func readWAV(b []byte) (rate int, samples []int16, err error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0, nil, errors.New("not a WAV file")
	}
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8:]
		if size < len(body) {
			body = body[:size]
		}
		switch id {
		case "fmt ":
			if len(body) < 16 || binary.LittleEndian.Uint16(body) != 1 || binary.LittleEndian.Uint16(body[2:]) != 1 || binary.LittleEndian.Uint16(body[14:]) != 16 {
				return 0, nil, errors.New("not 16-bit mono PCM")
			}
			rate = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			samples = make([]int16, len(body)/2)
			for i := range samples {
				samples[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
			}
			return rate, samples, nil
		}
		p += 8 + size + size%2
	}
	return 0, nil, errors.New("no data")
}

// trim cuts the silence before and after the voice, keeping 20 ms.
func trim(s []int16, rate int) []int16 {
	const quiet = 300 // of 32767
	loud := func(v int16) bool { return v > quiet || v < -quiet }
	first, last := slices.IndexFunc(s, loud), len(s)-1
	if first < 0 {
		return nil
	}
	for !loud(s[last]) {
		last--
	}
	pad := rate / 50
	return s[max(0, first-pad):min(len(s), last+pad)]
}

// halve low-passes (1-2-1) and keeps every other sample.
func halve(s []int16) []int16 {
	out := make([]int16, 0, len(s)/2)
	for i := 0; i < len(s); i += 2 {
		prev, next := s[max(0, i-1)], s[min(len(s)-1, i+1)]
		out = append(out, int16((int(prev)+2*int(s[i])+int(next))/4))
	}
	return out
}

func writeWAV(rate int, s []int16) []byte {
	var b bytes.Buffer
	data := 2 * len(s)
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(rate * 2), uint16(2), uint16(16)} { // PCM, mono, 16-bit
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data))
	binary.Write(&b, binary.LittleEndian, s)
	return b.Bytes()
}
