/* tq web's private header: the server's state, the request as the
 * handlers see it, the assets built into the binary, and the handlers of
 * web_api.c (reads) and web_act.c (actions). */
#ifndef TQ_WEB_H
#define TQ_WEB_H

#include <stddef.h>

#include <jansson.h>

#include "client.h"

#define WEB_TOKEN_MAX	256
#define WEB_CSRF_LEN	32		/* hex digits */
#define WEB_PREVIEW	4096		/* bytes of a payload or result shown */

/* One server: one client (one database connection, used by the one
 * thread that serves requests), the write token when a file gave one,
 * and the CSRF value of this process. */
struct web {
	struct client	 c;
	char		 token[WEB_TOKEN_MAX + 1];	/* "" read-only */
	char		 csrf[WEB_CSRF_LEN + 1];
	char		 listen[128];
};
extern struct web W;

/* A request: its method, path after /api/, and its query arguments. */
struct web_req {
	void		*conn;		/* struct MHD_Connection */
	const char	*method;
	const char	*path;		/* "tasks/ID", "overview", ... */
	char		 remote[64];	/* who asked, for the log */
};
/* web_util.c: a query argument, or def when absent. */
const char	*web_arg(const struct web_req *, const char *name,
		    const char *def);

/* What a handler answers: status and a JSON body (stolen), or raw
 * bytes to download. */
struct web_resp {
	unsigned	 status;
	json_t		*json;
	void		*raw;		/* malloc'd; with raw_len, a download */
	size_t		 raw_len;
	char		 filename[64];
};
/* An error answer {"error": msg}; returns 0 for a handler's return. */
int	web_error(struct web_resp *, unsigned status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The store failed: 503 when that may pass, else 500. */
int	web_store_error(struct web_resp *);

/* A byte string as JSON text: at most max bytes, invalid UTF-8 replaced
 * by U+FFFD (jansson takes only UTF-8), never NULL but out of memory. */
json_t	*web_text(const void *, size_t len, size_t max);

/* web_nodes.c: a node row's info as {instance, pools, workers,
 * workers_left_out}; pools and workers null when it tells none. */
json_t	*web_node_info(const char *info);

/* web_api.c: GET /api/... */
int	web_api_get(const struct web_req *, struct web_resp *);
/* web_act.c: POST /api/..., after the token and CSRF checks. */
int	web_act_post(const struct web_req *, struct web_resp *);

/* The static files (generated from cli/web/ at build time). */
struct web_asset {
	const char		*path;		/* "/app.js" */
	const char		*type;
	const unsigned char	*data;
	size_t			 len;
};
extern const struct web_asset web_assets[];

/* web_http.c: starts serving on W.listen; NULL with why. */
void	*web_http_start(char *why, size_t whysz);
void	 web_http_stop(void *);

/* web_sample.c: the main thread's watch, until a signal in set (which
 * it returns); what it saw, as the overview's "recent" object. */
#include <signal.h>
int	 web_sample_loop(const sigset_t *set);
json_t	*web_sample_json(const char *queue);

#endif
