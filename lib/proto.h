/*
 * proto.h: supervisor <-> worker frames over a SOCK_SEQPACKET socketpair.
 * One frame per packet, fixed layout, little-endian:
 *   version:u8 type:u8 len:u16 body[len]
 * Every frame is size-checked against its type before it is read (as
 * OpenBSD's IMSG_SIZE_CHECK); an unknown version or type closes the peer.
 */
#ifndef TQ_PROTO_H
#define TQ_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "uuid.h"

#define PROTO_VERSION	1
#define PROTO_HDR	4
#define PROTO_MAX	512	/* largest frame, header included */
#define PROTO_OWNER_MAX	96
#define PROTO_NAME_MAX	255	/* a task name (TASK_NAME_MAX) */

enum proto_type {
	/* worker -> supervisor */
	P_HELLO = 1,
	P_HEARTBEAT,
	P_TASK_BEGIN,
	P_TASK_END,
	P_TASK_DONE,	/* a run's outcome is recorded: counters */
	/* supervisor -> worker */
	P_DRAIN = 16,
	P_CANCEL,
	P_SHUTDOWN,
};

enum worker_state { WS_IDLE, WS_BUSY, WS_DRAINING };

struct frame {
	enum proto_type	type;
	union {
		struct {
			uint32_t	pid;
			char		owner[PROTO_OWNER_MAX + 1];
		} hello;
		struct {
			uint8_t		state;		/* enum worker_state */
			uint8_t		progress;	/* 0..100 */
			uint16_t	inflight;	/* claimed, not finished */
			struct uuid	task;		/* running now, or zero */
			uint64_t	fence;
			uint32_t	rss_kb;
			uint32_t	loop_age_ms;	/* main loop's last turn */
			uint64_t	succeeded;
			uint64_t	failed;
			uint32_t	duplicates;	/* deliveries dropped */
		} hb;
		struct {
			struct uuid	task;
			uint64_t	fence;
			uint32_t	attempt;
			uint8_t		ok;		/* TASK_END: it succeeded;
							 * TASK_BEGIN: it runs
							 * under a limit */
		} task;
		struct {
			uint8_t		outcome;	/* enum rollup_outcome */
			uint8_t		timed_out;
			uint64_t	run_us;
			uint64_t	wait_us;	/* UINT64_MAX: unknown */
			char		name[PROTO_NAME_MAX + 1];
		} done;
		struct {
			struct uuid	task;
		} cancel;
	} u;
};

/* Encodes f into out (PROTO_MAX bytes); returns the length or -1. */
int	proto_encode(const struct frame *, uint8_t *out, size_t outsz);
/* Decodes one packet; 0, or -1 with a reason in err. */
int	proto_decode(const uint8_t *p, size_t len, struct frame *,
	    char *err, size_t errsz);
/* Encodes and sends one frame (MSG_NOSIGNAL, MSG_DONTWAIT); 0 or -1. */
int	proto_send(int fd, const struct frame *);

#endif
