module github.com/xtaci/smux

go 1.13
