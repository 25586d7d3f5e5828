module ec2connect.local/smuxinterop

go 1.13

require github.com/xtaci/smux v1.5.15

replace github.com/xtaci/smux => ./xtaci-smux
