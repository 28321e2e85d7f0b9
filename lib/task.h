/* task.h: the task model: states, transitions, the message codec. */
#ifndef TQ_TASK_H
#define TQ_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "uuid.h"

enum task_state {
	TS_PENDING,
	TS_QUEUED,
	TS_SCHEDULED,
	TS_RUNNING,
	TS_SUCCEEDED,
	TS_FAILED,
	TS_CANCELLED,
	TS_COUNT
};

#define TASK_NAME_MAX		255
#define TASK_QUEUE_MAX		64
/* Hard ceiling; the configured limit (payload_max) is usually lower. */
#define TASK_PAYLOAD_HARDMAX	(8u * 1024 * 1024)
#define TASK_PAYLOAD_DEFMAX	(1u * 1024 * 1024)

const char	*task_state_name(enum task_state);
/* -1 when the name is not a state. */
int		 task_state_parse(const char *);
int		 task_state_terminal(enum task_state);
/* Whether the design allows from -> to. */
int		 task_transition_ok(enum task_state from, enum task_state to);
/* Queue and task names: 1..max bytes of [A-Za-z0-9._:-]. */
int		 task_name_ok(const char *, size_t max);

/*
 * Flow control ([limit NAME], tq limit set). A task's limit key is a name
 * as above, e.g. "customer:42"; a limit's NAME is a key, or a prefix that
 * ends in ':' followed by '*' ("customer:*"), which gives every key with
 * that prefix a limit of its own. The key's own limit wins, then the
 * longest prefix.
 */
#define TASK_LIMIT_KEY_MAX	255
struct limit_def {
	char		 name[TASK_LIMIT_KEY_MAX + 1];
	unsigned	 concurrency;	/* running at once; 0: no bound */
	unsigned	 rate_n;	/* starts per rate_ms; 0: no bound */
	long long	 rate_ms;
	unsigned	 burst;		/* starts at once beyond the rate; >= 1 */
};
int	limit_name_ok(const char *);
/* "N/DURATION" ("100/60s", "10/s", "5/m"): 0, or -1 with why. */
int	limit_rate_parse(const char *, unsigned *n, long long *ms,
	    const char **why);

/*
 * The broker message body, version 1 (all integers big-endian):
 *   "TQ" version:u8 flags:u8 id:16 name_len:u8 name payload_len:u32 payload
 * The body must be exactly that long. The row stays the truth: the message
 * only saves the worker a read.
 */
#define TASK_MSG_MAGIC0		'T'
#define TASK_MSG_MAGIC1		'Q'
#define TASK_MSG_VERSION	1
#define TASK_MSG_OVERHEAD	(2 + 1 + 1 + UUID_LEN + 1 + 4)

struct task_msg {
	struct uuid	 id;
	char		 name[TASK_NAME_MAX + 1];
	const uint8_t	*payload;	/* points into the decoded body */
	size_t		 payload_len;
	int		 has_id;	/* id valid even when decoding failed */
};

/* Encodes into out (size at least TASK_MSG_OVERHEAD + name + payload);
 * returns the length, or -1 when a field is out of bounds. */
long	task_msg_encode(const struct uuid *, const char *name,
	    const void *payload, size_t len, uint8_t *out, size_t outsz);
/* Decodes body; 0, or -1 with the reason in err. payload_max bounds the
 * payload. */
int	task_msg_decode(const void *body, size_t len, size_t payload_max,
	    struct task_msg *, char *err, size_t errsz);

#endif
