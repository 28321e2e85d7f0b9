/* worker.h: tq-worker's private structures. */
#ifndef TQ_WORKER_H
#define TQ_WORKER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "util.h"

/* What a handler sees. */
struct hctx {
	const char	*name;
	const void	*payload;
	size_t		 len;
	unsigned	 attempt;
	char		 id[UUID_STRLEN + 1];
	struct buf	*result;
	char		 error[1024];
	volatile sig_atomic_t *cancel;	/* set when the task must stop */
	/* Reports progress (0..100) and a short message; thread-safe. */
	void		(*progress)(struct hctx *, unsigned pct, const char *msg);
	void		*priv;
};

/* A handler returns 0 on success (result in h->result) or -1 with
 * h->error set. */
typedef int (*handler_fn)(struct hctx *h);

/* The built-in handler for name, or NULL. */
handler_fn	handler_find(const char *name);

#endif
