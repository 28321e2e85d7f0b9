/* task.c: states and the message codec. */
#include <stdio.h>
#include <string.h>

#include "task.h"
#include "util.h"

static const char *const state_names[TS_COUNT] = {
	"pending", "queued", "scheduled", "running", "succeeded", "failed",
	"cancelled",
};

const char *
task_state_name(enum task_state s)
{
	if ((unsigned)s >= TS_COUNT)
		return "unknown";
	return state_names[s];
}

int
task_state_parse(const char *s)
{
	int i;

	for (i = 0; i < TS_COUNT; i++)
		if (strcmp(s, state_names[i]) == 0)
			return i;
	return -1;
}

int
task_state_terminal(enum task_state s)
{
	return s == TS_SUCCEEDED || s == TS_FAILED || s == TS_CANCELLED;
}

int
task_transition_ok(enum task_state from, enum task_state to)
{
#define B(s) (1u << (s))
	static const unsigned allowed[TS_COUNT] = {
		/* pending: confirmed, claimed before the confirm, cancelled */
		[TS_PENDING] = B(TS_QUEUED) | B(TS_RUNNING) | B(TS_CANCELLED) |
		    B(TS_SCHEDULED),
		[TS_QUEUED] = B(TS_RUNNING) | B(TS_CANCELLED),
		[TS_SCHEDULED] = B(TS_QUEUED) | B(TS_CANCELLED),
		/* running: done, retry later, requeued (death, lease), failed,
		 * cancelled while running */
		[TS_RUNNING] = B(TS_SUCCEEDED) | B(TS_SCHEDULED) | B(TS_QUEUED) |
		    B(TS_FAILED) | B(TS_CANCELLED),
		[TS_SUCCEEDED] = 0,
		/* an operator's retry */
		[TS_FAILED] = B(TS_QUEUED),
		[TS_CANCELLED] = 0,
	};
#undef B
	if ((unsigned)from >= TS_COUNT || (unsigned)to >= TS_COUNT)
		return 0;
	return (allowed[from] >> to) & 1;
}

int
task_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._:-") == n;
}

int
limit_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n >= 3 && s[n - 1] == '*' && s[n - 2] == ':') {
		char pre[TASK_LIMIT_KEY_MAX + 1];

		memcpy(pre, s, n - 1);
		pre[n - 1] = '\0';
		return task_name_ok(pre, TASK_LIMIT_KEY_MAX - 1);
	}
	return task_name_ok(s, TASK_LIMIT_KEY_MAX);
}

int
limit_rate_parse(const char *s, unsigned *n, long long *ms, const char **why)
{
	char num[16], per[32];
	const char *slash;
	long long v;

	if ((slash = strchr(s, '/')) == NULL || slash == s ||
	    (size_t)(slash - s) >= sizeof(num) || strlen(slash + 1) == 0 ||
	    strlen(slash + 1) >= sizeof(per) - 1) {
		*why = "not N/DURATION (e.g. 100/60s)";
		return -1;
	}
	memcpy(num, s, (size_t)(slash - s));
	num[slash - s] = '\0';
	if (parse_num(num, 1, 1000000, &v, why) == -1)
		return -1;
	*n = (unsigned)v;
	/* "10/s": one of the unit. */
	snprintf(per, sizeof(per), "%s%s", strspn(slash + 1, "0123456789") ?
	    "" : "1", slash + 1);
	if (parse_duration(per, 86400000LL * 7, ms, why) == -1)
		return -1;
	if (*ms == 0) {
		*why = "a rate's period must not be 0";
		return -1;
	}
	return 0;
}

long
task_msg_encode(const struct uuid *id, const char *name, const void *payload,
    size_t len, uint8_t *out, size_t outsz)
{
	size_t nlen = strlen(name), total;
	uint8_t *p = out;

	if (nlen == 0 || nlen > TASK_NAME_MAX || len > TASK_PAYLOAD_HARDMAX)
		return -1;
	total = TASK_MSG_OVERHEAD + nlen + len;
	if (total > outsz)
		return -1;
	*p++ = TASK_MSG_MAGIC0;
	*p++ = TASK_MSG_MAGIC1;
	*p++ = TASK_MSG_VERSION;
	*p++ = 0;
	memcpy(p, id->b, UUID_LEN);
	p += UUID_LEN;
	*p++ = (uint8_t)nlen;
	memcpy(p, name, nlen);
	p += nlen;
	*p++ = (uint8_t)(len >> 24);
	*p++ = (uint8_t)(len >> 16);
	*p++ = (uint8_t)(len >> 8);
	*p++ = (uint8_t)len;
	if (len > 0)
		memcpy(p, payload, len);
	return (long)total;
}

int
task_msg_decode(const void *body, size_t len, size_t payload_max,
    struct task_msg *m, char *err, size_t errsz)
{
	const uint8_t *p = body;
	size_t nlen, plen;

	m->has_id = 0;
	if (len < TASK_MSG_OVERHEAD + 1) {
		snprintf(err, errsz, "message too short (%zu bytes)", len);
		return -1;
	}
	if (p[0] != TASK_MSG_MAGIC0 || p[1] != TASK_MSG_MAGIC1) {
		snprintf(err, errsz, "not a tq message (bad magic)");
		return -1;
	}
	if (p[2] != TASK_MSG_VERSION) {
		snprintf(err, errsz, "unsupported message version %u", p[2]);
		return -1;
	}
	if (p[3] != 0) {
		snprintf(err, errsz, "unknown message flags 0x%02x", p[3]);
		return -1;
	}
	memcpy(m->id.b, p + 4, UUID_LEN);
	m->has_id = 1;
	nlen = p[4 + UUID_LEN];
	if (nlen == 0 || TASK_MSG_OVERHEAD + nlen > len) {
		snprintf(err, errsz, "bad task name length %zu", nlen);
		return -1;
	}
	memcpy(m->name, p + 5 + UUID_LEN, nlen);
	m->name[nlen] = '\0';
	if (strlen(m->name) != nlen || !task_name_ok(m->name, TASK_NAME_MAX)) {
		snprintf(err, errsz, "bad task name");
		return -1;
	}
	p += 5 + UUID_LEN + nlen;
	plen = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 |
	    p[3];
	if (plen > payload_max) {
		snprintf(err, errsz, "payload of %zu bytes exceeds the limit "
		    "of %zu", plen, payload_max);
		return -1;
	}
	if (TASK_MSG_OVERHEAD + nlen + plen != len) {
		snprintf(err, errsz, "payload length %zu disagrees with "
		    "message size %zu", plen, len);
		return -1;
	}
	m->payload = p + 4;
	m->payload_len = plen;
	return 0;
}
