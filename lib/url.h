/* url.h: amqp://, amqps:// and mysql:// URLs. */
#ifndef TQ_URL_H
#define TQ_URL_H

#include <stddef.h>

enum url_scheme { URL_AMQP, URL_AMQPS, URL_MYSQL };

struct url {
	enum url_scheme	scheme;
	char		user[128];
	char		pass[256];
	char		host[256];
	int		port;
	/* vhost for AMQP ("/" when the path is empty), database for MySQL. */
	char		path[256];
};

/* TLS to a server: on, the files (NULL or "" when not set) and whether
 * the peer's certificate and name are verified. */
struct tls_opts {
	int		 on;
	const char	*ca, *cert, *key;
	int		 verify;
};

/* Parses scheme://[user[:pass]@]host[:port][/path]; user, pass and path are
 * percent-decoded. 0, or -1 with a reason in err. */
int	url_parse(const char *, struct url *, char *err, size_t errsz);
/* The URL with the password replaced by "***", for messages. */
void	url_redact(const struct url *, char *out, size_t outsz);
/* 1 when the text of a URL (or of a comma-separated list of them) carries
 * a password: user:pass@. */
int	url_has_password(const char *);
/* Wipes the password from memory. */
void	url_clear(struct url *);

#endif
