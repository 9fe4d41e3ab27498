module github.com/servicehall/servicehall

go 1.26.8
