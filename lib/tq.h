/*
 * tq.h: the public C API of tq.
 *
 * Producer side: open a client, submit tasks (one or many), read them
 * back, wait for them. Link with the shared library:
 *   cc app.c $(pkg-config --cflags --libs tq)
 * or statically, with libtq.a and the libraries that
 * `pkg-config --static --libs tq` lists after -ltq.
 *
 * Handler side: a plugin (a shared object loaded by `tq-worker --plugin
 * PATH.so`) exports tq_plugin_init, which registers handlers by task name.
 * A handler reads its job's payload, may report progress, sets a result
 * or an error, and returns 0 (success) or -1 (failure: retried while
 * attempts are left). The tq_job_* functions are the worker's; a plugin
 * does not link libtq for them.
 *
 * All functions return 0 (or a count) on success and -1 on failure, with
 * the reason in tq_error(). Nothing here exits or prints.
 *
 * ABI. libtq.so.1 exports the producer functions declared here and
 * nothing else (its other symbols are hidden). Within 1.x:
 *   - functions, types, TQ_SET_* bits and fields at the end of struct
 *     tq_task may be added; nothing is removed or renamed;
 *   - a function keeps its signature and meaning, a struct other than
 *     tq_task keeps its layout (struct tq_spec and struct tq_info are
 *     frozen), a constant keeps its value;
 *   - struct tq_task grows only at its end, and a new field's zero means
 *     what the library did before the field existed. Callers set size
 *     (TQ_TASK_INIT does), so that a newer library reads an older
 *     caller's shorter struct, and an older library refuses a newer
 *     caller's longer one unless the fields it does not know are zero.
 * Anything else (removing or changing a function, changing a frozen
 * struct, a different meaning for an existing value) is a new soname,
 * libtq.so.2. The minor version (libtq.so.1.N.0, tq.pc) counts additions.
 */
#ifndef TQ_H
#define TQ_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TQ_ID_LEN	36	/* a task id as text, without the NUL */

/* What libtq.so exports (and what a plugin's tq_plugin_init must). */
#if defined(__GNUC__)
#define TQ_API	__attribute__((visibility("default")))
#else
#define TQ_API
#endif

/* ---- producers ---- */

typedef struct tq_client tq_client;

/* Opens a client from a config file ([tq] section) or, with NULL, from
 * the environment (TQ_MYSQL_URL, TQ_AMQP_URL, ...), as `tq -c FILE` does.
 * It connects on first use. NULL with err set (a bad configuration). */
TQ_API tq_client	*tq_open(const char *config_file, char *err,
			    size_t errsz);
TQ_API void		 tq_close(tq_client *);
/* The last error of this client. */
TQ_API const char	*tq_error(const tq_client *);
/* Whether the last error may heal by itself (a server unreachable). */
TQ_API int		 tq_error_temporary(const tq_client *);

/* The first producer interface: a name, a payload, attempts and a delay.
 * Frozen; struct tq_task below has every option. */
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
TQ_API int	tq_submit(tq_client *, const struct tq_spec *, char *id);
/* Submits n tasks in one transaction; ids[i] gets the id of specs[i]. */
TQ_API int	tq_submit_many(tq_client *, const struct tq_spec *specs,
		    size_t n, char (*ids)[TQ_ID_LEN + 1]);

/* Every option of `tq submit`. A zero field means the default: the
 * queue's [queue NAME] section, then [tq]. backoff and priority, where 0
 * is a value of its own, are read only with their TQ_SET_ bit in set. */
struct tq_task {
	size_t		 size;		/* sizeof(struct tq_task) */
	unsigned	 set;		/* TQ_SET_* */
	const char	*queue;		/* NULL: the configured queue */
	const char	*name;		/* the task name, e.g. "thumbnail" */
	const void	*payload;
	size_t		 len;
	unsigned	 max_attempts;	/* 1..1000 */
	double		 delay_s;	/* start no earlier than this from now */
	double		 at;		/* or than this time (s since the epoch,
					 * UTC); not with delay_s */
	double		 backoff_base_s; /* retry backoff (TQ_SET_BACKOFF): */
	double		 backoff_cap_s;	/* 0: the default, raised to the base */
	double		 timeout_s;	/* each attempt may run this long */
	unsigned	 priority;	/* 0..9, 9 first (TQ_SET_PRIORITY) */
	const char	*key;		/* unique key, 1..255 bytes: while a
					 * task with it is not finished in its
					 * queue, its id is the answer */
	const char *const *after;	/* ids of the parents that must succeed
					 * first (at most TQ_AFTER_MAX) */
	size_t		 nafter;
	/* libtq 1.1 */
	const char	*limit_key;	/* runs under the limit of this key
					 * (tq limit set), e.g. "customer:42":
					 * 1..255 bytes of [A-Za-z0-9._:-] */
};

#define TQ_SET_BACKOFF	0x1u
#define TQ_SET_PRIORITY	0x2u
#define TQ_AFTER_MAX	64
#define TQ_TASK_INIT	{ .size = sizeof(struct tq_task) }

/* Submits one task with every option; id as tq_submit. */
TQ_API int	tq_submit_task(tq_client *, const struct tq_task *, char *id);
/* Submits n tasks in one transaction; ids[i] gets the id of tasks[i], or,
 * where a key was held, the id of the task that holds it. Every element
 * has the size of the first. */
TQ_API int	tq_submit_tasks(tq_client *, const struct tq_task *tasks,
		    size_t n, char (*ids)[TQ_ID_LEN + 1]);

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
TQ_API int	tq_get(tq_client *, const char *id, struct tq_info *);
TQ_API void	tq_info_free(struct tq_info *);
/* Waits until the task ends or timeout_s passes (< 0: forever). Returns 1
 * when it succeeded, 0 when it ended otherwise or the time ran out (see
 * state), -1 on error. */
TQ_API int	tq_wait(tq_client *, const char *id, double timeout_s,
		    char state[16]);

/* ---- handlers (plugins) ---- */

typedef struct tq_job tq_job;
typedef int (*tq_handler)(tq_job *);

TQ_API const void	*tq_job_payload(tq_job *, size_t *len);
TQ_API const char	*tq_job_id(tq_job *);
TQ_API const char	*tq_job_name(tq_job *);
TQ_API unsigned		 tq_job_attempt(tq_job *);
/* Progress 0..100 with a short message, shown by `tq show`. */
TQ_API void		 tq_job_progress(tq_job *, unsigned pct,
			    const char *msg);
/* Appends to the result. */
TQ_API int		 tq_job_result(tq_job *, const void *, size_t);
/* Sets the error of a failing handler (printf-style). */
TQ_API void		 tq_job_error(tq_job *, const char *fmt, ...)
			    __attribute__((format(printf, 2, 3)));
/* Whether the task is being cancelled or timed out: stop soon. */
TQ_API int		 tq_job_cancelled(tq_job *);

/* A plugin exports this; tq-worker calls it once after dlopen. register
 * returns 0, or -1 for a bad or duplicate name. Return 0 to load. */
typedef int (*tq_register_fn)(const char *name, tq_handler);
TQ_API int	tq_plugin_init(tq_register_fn register_handler);

#ifdef __cplusplus
}
#endif

#endif
