/* config.h: every setting in one table with type, default and bounds;
 * read from an INI file, then the environment, then flags. */
#ifndef TQ_CONFIG_H
#define TQ_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "task.h"
#include "url.h"

#define CONFIG_LIMITS_MAX	32
#define CONFIG_QUEUES_MAX	32

/* [queue NAME]: defaults for tasks submitted to that queue (a task's own
 * flags still win). -1: not set, the global default applies. */
struct queue_defaults {
	char		name[65];
	long long	max_attempts, backoff_base_ms, backoff_cap_ms,
			timeout_ms, priority;
	long long	keep_ms[3];	/* succeeded, failed, cancelled */
};

struct config {
	char	amqp_url[1024];
	char	mysql_url[1024];
	char	amqp_password_file[512];
	char	mysql_password_file[512];
	/* TLS: amqps:// URLs turn it on for the broker, mysql_tls for the
	 * database; the peer's certificate is verified unless *_verify is
	 * off. */
	char	amqp_tls_ca[512];
	char	amqp_tls_cert[512];
	char	amqp_tls_key[512];
	long long amqp_tls_verify;
	long long mysql_tls;
	char	mysql_tls_ca[512];
	char	mysql_tls_cert[512];
	char	mysql_tls_key[512];
	long long mysql_tls_verify;
	char	queue[65];
	char	queue_type[16];		/* quorum | classic */
	char	log_level[16];
	char	log_target[16];
	long long prefetch;
	long long batch;		/* claims/finishes per round */
	long long batch_wait_ms;	/* how long a round waits to fill */
	long long payload_max;
	long long result_max;
	long long max_attempts;
	long long backoff_base_ms;
	long long backoff_cap_ms;
	long long pending_grace_ms;
	long long lease_ms;
	long long heartbeat_s;
	long long timeout_ms;		/* broker/RPC waits */
	long long reconcile_ms;		/* reconciler tick */
	long long leader_ttl_ms;
	long long publish_window;
	long long stranded_after_ms;
	char	node[129];
	long long node_timeout_ms;
	long long fence_all;		/* stop every handler, not only
					 * those under a limit, at a lapse */
	char	control_socket[108];
	char	metrics_listen[64];
	/* Retention: finished tasks are deleted this long after they
	 * finished (0: kept forever); [queue NAME] sections may differ. */
	long long keep_succeeded;
	long long keep_failed;
	long long keep_cancelled;
	long long retention_batch;	/* rows per delete statement */
	struct queue_defaults queues[CONFIG_QUEUES_MAX];
	int	nqueues;
	/* [limit NAME]: written to tq_limits when a supervisor starts */
	struct limit_def limits[CONFIG_LIMITS_MAX];
	int	nlimits;
};

/* CT_DUR: milliseconds, written as a duration (7d, 12h, 30s, 500ms). */
enum config_type { CT_STR, CT_INT, CT_BOOL, CT_DUR };

struct config_key {
	const char	*name;		/* INI key under [tq] */
	const char	*env;		/* environment variable or NULL */
	enum config_type type;
	const char	*def;
	long long	 min, max;	/* CT_INT bounds */
	size_t		 off, size;
	const char	*help;
};

extern const struct config_key config_keys[];

/* Defaults only. */
void	config_defaults(struct config *);
/* Defaults, then file (when not NULL), then environment. 0, or -1 with the
 * reason (file, line, key) in err. */
int	config_load(struct config *, const char *file, char *err, size_t errsz);
/* Sets one key by name ("prefetch", "amqp_url"...); 0 or -1 with err. */
int	config_set(struct config *, const char *key, const char *value,
	    char *err, size_t errsz);
/* Checks the whole configuration again, after config_set; 0 or -1 with
 * err. */
int	config_check(const struct config *, char *err, size_t errsz);
/* A URL given on the command line (--amqp-url, --mysql-url): as
 * config_set, but a password in it is refused, since every local user can
 * read a process's arguments. */
int	config_set_flag_url(struct config *, const char *key, const char *url,
	    char *err, size_t errsz);
/* Parses both URLs, reading password files; 0 or -1 with err. */
int	config_urls(const struct config *, struct url *amqp, struct url *mysql,
	    char *err, size_t errsz);
/* The defaults for tasks of queue: the [queue NAME] section's values over
 * the global ones. */
void	config_queue(const struct config *, const char *queue,
	    unsigned *max_attempts, unsigned *backoff_base_ms,
	    unsigned *backoff_cap_ms, unsigned *timeout_ms, unsigned *priority);
/* How long finished tasks of queue in state (succeeded, failed or
 * cancelled) are kept, ms; 0: forever, -1: not a terminal state. */
long long config_keep_ms(const struct config *, const char *queue,
	    int state);
/* Every distinct retention window of the configuration, for sizing. The
 * longest finite one, or 0 when any state of any queue is kept forever. */
long long config_keep_max_ms(const struct config *);

/* amqp_url may list several brokers (cluster nodes), comma-separated;
 * fills out[0..max) and returns the count, or -1 with err. */
int	config_amqp_urls(const struct config *, struct url *out, int max,
	    char *err, size_t errsz);
/* Writes every key, its value and help (secrets redacted). */
void	config_dump(const struct config *, FILE *);

#endif
