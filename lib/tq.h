/*
 * tq.h: the public C API of tq.
 *
 * Producer side: open a client, submit tasks (one or many), read them
 * back, wait for them. Link with -ltq (libtq.a) and its dependencies:
 *   cc app.c -ltq $(pkg-config --libs librabbitmq libmariadb libbsd jansson)
 *
 * Handler side: a plugin (a shared object loaded by `tq-worker --plugin
 * PATH.so`) exports tq_plugin_init, which registers handlers by task name.
 * A handler reads its job's payload, may report progress, sets a result
 * or an error, and returns 0 (success) or -1 (failure: retried while
 * attempts are left).
 *
 * All functions return 0 (or a count) on success and -1 on failure, with
 * the reason in tq_error(). Nothing here exits or prints.
 */
#ifndef TQ_H
#define TQ_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TQ_ID_LEN	36	/* a task id as text, without the NUL */

/* ---- producers ---- */

typedef struct tq_client tq_client;

/* Opens a client from a config file ([tq] section) or, with NULL, from
 * the environment (TQ_MYSQL_URL, TQ_AMQP_URL, ...). NULL with err set. */
tq_client	*tq_open(const char *config_file, char *err, size_t errsz);
void		 tq_close(tq_client *);
/* The last error of this client. */
const char	*tq_error(const tq_client *);
/* Whether the last error may heal by itself (a server unreachable). */
int		 tq_error_temporary(const tq_client *);

struct tq_spec {
	const char	*queue;		/* NULL: the configured queue */
	const char	*name;		/* the task name, e.g. "thumbnail" */
	const void	*payload;
	size_t		 len;
	unsigned	 max_attempts;	/* 0: the configured default */
	double		 delay_s;	/* start no earlier than this from now */
};

/* Submits one task; id gets its id (TQ_ID_LEN + 1 bytes). Returns once
 * the task is durable. */
int	tq_submit(tq_client *, const struct tq_spec *, char *id);
/* Submits n tasks in one transaction; ids[i] gets the id of specs[i]. */
int	tq_submit_many(tq_client *, const struct tq_spec *specs, size_t n,
	    char (*ids)[TQ_ID_LEN + 1]);

struct tq_info {
	char		 state[16];	/* pending, queued, ..., succeeded */
	unsigned	 attempts, max_attempts;
	unsigned	 progress;	/* 0..100 */
	void		*result;	/* malloc'd; NULL when none */
	size_t		 result_len;
	char		*error;		/* malloc'd; NULL when none */
};

/* Reads a task: 1 found, 0 no such task, -1 error. Free the info with
 * tq_info_free. */
int	tq_get(tq_client *, const char *id, struct tq_info *);
void	tq_info_free(struct tq_info *);
/* Waits until the task ends or timeout_s passes (< 0: forever). Returns 1
 * when it succeeded, 0 when it ended otherwise or the time ran out (see
 * state), -1 on error. */
int	tq_wait(tq_client *, const char *id, double timeout_s,
	    char state[16]);

/* ---- handlers (plugins) ---- */

typedef struct tq_job tq_job;
typedef int (*tq_handler)(tq_job *);

const void	*tq_job_payload(tq_job *, size_t *len);
const char	*tq_job_id(tq_job *);
const char	*tq_job_name(tq_job *);
unsigned	 tq_job_attempt(tq_job *);
/* Progress 0..100 with a short message, shown by `tq show`. */
void		 tq_job_progress(tq_job *, unsigned pct, const char *msg);
/* Appends to the result. */
int		 tq_job_result(tq_job *, const void *, size_t);
/* Sets the error of a failing handler (printf-style). */
void		 tq_job_error(tq_job *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* Whether the task is being cancelled or timed out: stop soon. */
int		 tq_job_cancelled(tq_job *);

/* A plugin exports this; tq-worker calls it once after dlopen. register
 * returns 0, or -1 for a bad or duplicate name. Return 0 to load. */
typedef int (*tq_register_fn)(const char *name, tq_handler);
int	tq_plugin_init(tq_register_fn register_handler);

#ifdef __cplusplus
}
#endif

#endif
