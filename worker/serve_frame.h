/*
 * serve_frame.h: the frames of served handlers, protocol version 1
 * (docs/serve-protocol.md). Both directions: len:u32le type:u8 body, len
 * counting the type byte and the body. The worker writes TASK and CANCEL
 * on the child's fd 3; the child writes READY, PROGRESS, OK and ERROR on
 * its fd 4.
 */
#ifndef TQ_SERVE_FRAME_H
#define TQ_SERVE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SF_VERSION		1
#define SF_ID_LEN		36	/* a text UUID */
#define SF_HDR			5	/* len:u32 type:u8 */
#define SF_LEN_MAX		(64u * 1024 * 1024 + 64)
#define SF_PROGRESS_MSG_MAX	255
#define SF_TASK_FIXED		(SF_ID_LEN + 4 + 4 + 4 + 2)

enum sf_type {
	SF_TASK = 'T',
	SF_CANCEL = 'C',
	SF_READY = 'R',
	SF_PROGRESS = 'P',
	SF_OK = 'O',
	SF_ERROR = 'E',
};

/* One decoded frame. Pointers point into the bytes given to sf_parse. */
struct sf_msg {
	int		 type;
	char		 id[SF_ID_LEN + 1];	/* all but READY */
	uint32_t	 version;		/* READY */
	unsigned	 pct;			/* PROGRESS */
	uint32_t	 attempt, max_attempts, timeout_ms;	/* TASK */
	const char	*name;			/* TASK */
	size_t		 name_len;
	/* READY's text, PROGRESS's message, OK's result, ERROR's message,
	 * TASK's payload */
	const char	*data;
	size_t		 len;
};

/* Whether id holds a text UUID (SF_ID_LEN bytes, hex and dashes). */
int	sf_id_ok(const char *id);
/* Appends a TASK frame to out; 0, or -1 (too large, out of memory). */
int	sf_encode_task(struct buf *out, const char *id, uint32_t attempt,
	    uint32_t max_attempts, uint32_t timeout_ms, const char *name,
	    const void *payload, size_t len);
/* Appends a CANCEL frame. */
int	sf_encode_cancel(struct buf *out, const char *id);
/* Appends a child's frame: READY (id NULL, data the text; the version is
 * SF_VERSION), PROGRESS (pct), OK or ERROR. */
int	sf_encode_reply(struct buf *out, int type, const char *id,
	    unsigned pct, const void *data, size_t len);

/* The header of the frame at the start of buf: 1 with *type and *total
 * (header included) once SF_HDR bytes are there and they make sense, 0
 * before, -1 with err (a length of 0 or over SF_LEN_MAX, an unknown
 * type). */
int	sf_header(const void *buf, size_t avail, int *type, size_t *total,
	    char *err, size_t errsz);
/* Decodes the frame at the start of buf: 1 with m and *used (its size),
 * 0 when more bytes are needed, -1 with err when it is malformed (every
 * size is checked; a READY of another version, a progress over 100 or a
 * message over SF_PROGRESS_MSG_MAX, an id that is not a text UUID). */
int	sf_parse(const void *buf, size_t avail, struct sf_msg *m, size_t *used,
	    char *err, size_t errsz);

#endif
