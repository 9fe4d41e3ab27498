// Package idnumber validates and masks resident identity numbers
// (居民身份号码, GB 11643-1999).
package idnumber

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Number is an 18-character resident ID number that passed Parse. Its
// String is masked: the whole number never reaches a log by accident.
type Number struct{ s string }

// Errors wrapped by Parse; callers test with errors.Is.
var (
	ErrLength   = errors.New("an ID number has 18 characters (身份号码应为18位)")
	ErrOld15    = errors.New("15-digit ID numbers are no longer valid; use the 18-digit number on the second-generation card (15位旧号码已停止使用，请使用18位身份号码)")
	ErrFormat   = errors.New("an ID number is 17 digits and a check digit 0-9 or X (身份号码格式不正确)")
	ErrRegion   = errors.New("the region code does not exist (地址码不存在)")
	ErrBirth    = errors.New("the date of birth is impossible (出生日期不正确)")
	ErrChecksum = errors.New("the check digit is wrong (校验码不正确)")
)

// Province-level codes of GB/T 2260, plus 71 (Taiwan), 81 and 82 (Hong Kong,
// Macao) and 83 (residence permits of Taiwan residents).
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true, "83": true,
}

var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const checkChars = "10X98765432"

// Parse checks s as of the day today: length, region, a real date of birth
// not after today, and the ISO 7064 MOD 11-2 check digit. A lower-case x is
// read as X; surrounding spaces are ignored.
func Parse(s string, today time.Time) (Number, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) == 15 && digits(s) {
		return Number{}, ErrOld15
	}
	if len(s) != 18 {
		return Number{}, ErrLength
	}
	if !digits(s[:17]) || !strings.ContainsRune("0123456789X", rune(s[17])) {
		return Number{}, ErrFormat
	}
	region := s[:2]
	if s[0] == '9' { // foreign permanent residents since 2023: 9 + province + country
		region = s[1:3]
	}
	if !provinces[region] {
		return Number{}, fmt.Errorf("%w: %s", ErrRegion, s[:2])
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.Year() < 1900 || birth.After(today) {
		return Number{}, ErrBirth
	}
	if CheckDigit(s[:17]) != s[17] {
		return Number{}, ErrChecksum
	}
	return Number{s}, nil
}

// CheckDigit is the ISO 7064 MOD 11-2 check character of the first 17
// digits of a number, for making valid numbers (test data, benchmarks).
func CheckDigit(first17 string) byte {
	sum := 0
	for i, w := range weights {
		sum += int(first17[i]-'0') * w
	}
	return checkChars[sum%11]
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Full is the whole number, for the resident's own view and for sealing.
func (n Number) Full() string { return n.s }

// Masked keeps the first three and last four characters: 330***********447X.
func (n Number) Masked() string { return Mask(n.s) }

func (n Number) String() string { return n.Masked() }

func (n Number) IsZero() bool { return n.s == "" }

// Mask hides all but the first three and last four characters of any
// identifier, valid or not, so that even a rejected input is logged safely.
func Mask(s string) string {
	r := []rune(s)
	if len(r) <= 7 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}
