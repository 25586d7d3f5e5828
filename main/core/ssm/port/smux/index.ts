/**
 * xtaci/smux in TypeScript: the stream multiplexer that session-manager-plugin (client) and
 * the SSM agent (server) run over a port-forwarding data channel for agents newer than
 * 3.0.196.0. Both roles; protocol version 1 (what SSM uses) and version 2 (per-stream windows).
 *
 * Matched against the copy session-manager-plugin vendors (vendor/src/github.com/xtaci/smux:
 * frame.go, session.go, stream.go, mux.go, shaper.go; also in test/interop/smux/xtaci-smux,
 * which the interop test builds and runs against this code).
 *
 * Wire format (frame.go), every integer little-endian:
 *
 *     | version u8 | cmd u8 | length u16 | stream id u32 | payload (length bytes) |
 *
 * cmd: SYN 0 (open), FIN 1 (close, the EOF mark), PSH 2 (data), NOP 3 (keep-alive),
 * UPD 4 (v2 window update: payload = consumed u32 | window u32).
 *
 * Go behaviours matched:
 * - Stream ids (session.go newSession/OpenStream): the counter starts at 1 (client) or 0
 *   (server) and is advanced by 2 *before* use, so the client's first stream is 3 and the
 *   server's 2. When the uint32 wraps to 0 or 1 the session refuses new streams (ErrGoAway).
 * - recvLoop: a header whose version is not the session's, or an unknown command, is
 *   ErrInvalidProtocol: nothing after it is read. Here the session closes with a
 *   SmuxProtocolError naming what was seen. SYN for an existing id is ignored; FIN or PSH
 *   for an unknown (or already closed) id is read and dropped, and dropped data does not
 *   count against the receive budget; PSH with length 0 does nothing; UPD is accepted in
 *   either version (v1 ignores it) and its 8-byte payload read; NOP does nothing but, like
 *   every frame, counts as "data arrived" for the keep-alive timeout. PSH payloads up to
 *   65535 bytes are accepted whatever our maxFrameSize (Go does not check either).
 * - The receive budget (session.go "bucket"): MaxReceiveBuffer bytes for the whole session,
 *   taken when a PSH is queued on a stream, given back when the application reads it (here:
 *   when the bytes are handed to the Node stream's readable buffer) or when the stream is
 *   closed with unread data. Before each frame header, if the budget is <= 0 the session
 *   stops reading (transport.pause()) until reads give some back; one frame may overshoot.
 * - Keep-alive (session.go keepalive): a NOP every KeepAliveInterval; every KeepAliveTimeout,
 *   if no frame arrived since the previous check and the budget is not exhausted, the session
 *   closes (so a silent peer is detected after between one and two timeouts, as in Go). A
 *   NOP is not queued twice: Go abandons a NOP it could not write before the next tick.
 * - Writes (stream.go Write/writeV2, session.go shaper): split into frames of at most
 *   MaxFrameSize; SYN/FIN/NOP/UPD go ahead of queued data (Go's shaper gives them priority
 *   0); data frames of different streams are interleaved fairly (round-robin; Go orders by a
 *   per-stream counter). v2: a stream sends at most the peer's window (initially 262144)
 *   beyond what the peer reported consumed; a peer claiming to have consumed more than was
 *   sent fails the stream (ErrConsumed); a FIN while waiting for window fails the write (EOF).
 *   v2 receive: after reading, UPD(consumed, MaxStreamBuffer) is sent on the first read and
 *   whenever MaxStreamBuffer/2 more bytes have been read (tryReadv2).
 * - Stream close (stream.go Close): sends FIN once and forgets the stream: unread data is
 *   dropped and its budget returned; later frames for the id are dropped. A FIN received
 *   only ends reading (after the buffered data): writing stays possible (v1).
 * - Session close (session.go Close): no FIN is sent; every stream fails; the owner closes
 *   the connection (onClose).
 * - Defaults and checks of mux.go DefaultConfig/VerifyConfig (the constructor throws).
 *
 * Where this differs, deliberately:
 * - Node half-close: end() sends the FIN (what Go's Close puts on the wire) but keeps the
 *   readable side open until the peer's FIN, so a reply in flight is not lost; destroy() is
 *   Go's Close exactly (FIN, drop unread data, forget the stream). To a Go peer a FIN still
 *   means "closed": in v2 its writer gives up (EOF) once the FIN is in and its window is used
 *   up, so in v2 end() a stream only when nothing more is expected from the peer (v1, what
 *   SSM uses, has no such limit: Go's v1 Write ignores a received FIN).
 * - PSH after the peer's FIN is dropped (Go may or may not let a reader see it, depending on
 *   timing).
 * - SYN, FIN and NOP with a non-zero length, and UPD with a length other than 8, are
 *   protocol errors. Go ignores the length of those frames and would parse their payload as
 *   the next header; no smux implementation sends such frames.
 * - Bytes in a Node stream's readable buffer (up to its highWaterMark) are no longer counted
 *   in the budget: per session, memory is bounded by maxReceiveBuffer + one frame + streams x
 *   readableHighWaterMark.
 * - Go's accept backlog (1024 streams not yet accepted) is kept for the time nobody listens
 *   to onStream; when it is full, reading stops as in Go.
 * - On session close, a stream first delivers what it already received (to a paused reader:
 *   once it reads it), then fails with the close error ('error' event: streams need a
 *   listener, as any Node stream).
 */
export * from './frame.js';
export { SmuxStream, type SmuxStreamHost } from './stream.js';
export { SmuxSession, type SmuxOptions, type SmuxStats, type SmuxTransport } from './session.js';
