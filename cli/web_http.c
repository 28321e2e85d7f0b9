/* web_http.c: tq web's HTTP layer over libmicrohttpd: one thread serves
 * every request (the one database connection is that thread's), every
 * answer carries the security headers, static files come from the
 * binary, and a POST passes the write token, the CSRF value and the
 * origin checks before web_act.c sees it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "log.h"
#include "util.h"

#include "web.h"

/* No inline script or style, nothing from elsewhere, no framing. */
#define WEB_CSP \
	"default-src 'none'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; " \
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/* A request body is not used by any action: read and dropped, to this. */
#define WEB_BODY_MAX	(64 * 1024)

static int	 loopback;	/* listening on a loopback address */
static unsigned	 port;

static void
headers(struct MHD_Response *r, const char *type, int cache)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_SECURITY_POLICY,
	    WEB_CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy",
	    "same-origin");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, cache ?
	    "max-age=60" : "no-store");
}

static enum MHD_Result
send_json(struct MHD_Connection *conn, unsigned status, json_t *j,
    const char *cookie)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text;

	text = j ? json_dumps(j, JSON_COMPACT | JSON_ESCAPE_SLASH) : NULL;
	if (text == NULL) {
		status = 500;
		if ((text = strdup("{\"error\":\"out of memory\"}")) == NULL)
			return MHD_NO;
	}
	if ((r = MHD_create_response_from_buffer(strlen(text), text,
	    MHD_RESPMEM_MUST_FREE)) == NULL) {
		free(text);
		return MHD_NO;
	}
	headers(r, "application/json; charset=utf-8", 0);
	if (cookie)
		MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, cookie);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
send_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	struct web_resp w = { 0, NULL, NULL, 0, "" };
	enum MHD_Result ret;

	web_error(&w, status, "%s", msg);
	ret = send_json(conn, w.status, w.json, NULL);
	json_decref(w.json);
	return ret;
}

static enum MHD_Result
send_resp(struct MHD_Connection *conn, struct web_resp *w, const char *cookie)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char disp[128];

	if (w->raw == NULL && w->filename[0] == '\0')
		return send_json(conn, w->status ? w->status : 200, w->json,
		    cookie);
	if ((r = MHD_create_response_from_buffer(w->raw_len, w->raw ?
	    w->raw : (void *)"", w->raw ? MHD_RESPMEM_MUST_FREE :
	    MHD_RESPMEM_PERSISTENT)) == NULL)
		return MHD_NO;
	w->raw = NULL;
	headers(r, "application/octet-stream", 0);
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"",
	    w->filename);
	MHD_add_response_header(r, "Content-Disposition", disp);
	ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
send_asset(struct MHD_Connection *conn, const struct web_asset *a)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if ((r = MHD_create_response_from_buffer(a->len, (void *)a->data,
	    MHD_RESPMEM_PERSISTENT)) == NULL)
		return MHD_NO;
	headers(r, a->type, 1);
	ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* Equal strings, in time that does not depend on where they differ. */
static int
same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i % (lb ? lb : 1)];
	return d == 0 && lb > 0;
}

/* The Host header names this server: a page served under another name
 * (DNS rebinding) gets nothing when tq web listens on loopback. */
static int
host_ok(const char *host)
{
	char name[256];
	const char *p;
	size_t n;

	if (host == NULL)
		return 0;
	if (!loopback)
		return 1;
	if (host[0] == '[') {
		if ((p = strchr(host, ']')) == NULL)
			return 0;
		n = (size_t)(p - host) + 1;
	} else
		n = strcspn(host, ":");
	if (n >= sizeof(name))
		return 0;
	memcpy(name, host, n);
	name[n] = '\0';
	return strcmp(name, "localhost") == 0 || strcmp(name, "[::1]") == 0 ||
	    strncmp(name, "127.", 4) == 0;
}

/* Why a POST is refused, or NULL: the write token (Authorization: Bearer),
 * the CSRF value in the X-TQ-CSRF header and in the tq_csrf cookie (which
 * only a page of this origin could read from /api/session), and the
 * browser's own word on where the request comes from. */
static const char *
post_refused(struct MHD_Connection *conn, const char *host, unsigned *status)
{
	const char *auth, *csrf, *cookie, *origin, *site;
	char want[300];

	*status = 403;
	if (W.token[0] == '\0')
		return "read-only: tq web runs without --token-file";
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0 ||
	    !same_secret(auth + 7, W.token)) {
		*status = 401;
		return "write token missing or wrong";
	}
	csrf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-TQ-CSRF");
	cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "tq_csrf");
	if (csrf == NULL || cookie == NULL || !same_secret(csrf, W.csrf) ||
	    !same_secret(cookie, W.csrf))
		return "csrf check failed: X-TQ-CSRF header or tq_csrf cookie "
		    "missing or wrong";
	origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	snprintf(want, sizeof(want), "http://%s", host);
	if (origin != NULL && strcmp(origin, want) != 0)
		return "csrf check failed: cross-origin request";
	site = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Sec-Fetch-Site");
	if (site != NULL && strcmp(site, "same-origin") != 0 &&
	    strcmp(site, "none") != 0)
		return "csrf check failed: cross-site request";
	return NULL;
}

static void
remote_of(struct MHD_Connection *conn, char *out, size_t sz)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;
	char a[INET6_ADDRSTRLEN];

	snprintf(out, sz, "?");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET && inet_ntop(AF_INET,
	    &((const struct sockaddr_in *)sa)->sin_addr, a, sizeof(a)))
		snprintf(out, sz, "%s:%u", a, (unsigned)ntohs(
		    ((const struct sockaddr_in *)sa)->sin_port));
	else if (sa->sa_family == AF_INET6 && inet_ntop(AF_INET6,
	    &((const struct sockaddr_in6 *)sa)->sin6_addr, a, sizeof(a)))
		snprintf(out, sz, "[%s]:%u", a, (unsigned)ntohs(
		    ((const struct sockaddr_in6 *)sa)->sin6_port));
}

static enum MHD_Result
serve(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **con_cls)
{
	struct web_resp w = { 0, NULL, NULL, 0, "" };
	struct web_req r;
	const struct web_asset *a;
	const char *host, *why, *cookie = NULL;
	char setcookie[128];
	size_t *body = *con_cls;
	enum MHD_Result ret;
	unsigned status;
	int get;

	if (body == NULL) {
		if ((body = calloc(1, sizeof(*body))) == NULL)
			return MHD_NO;
		*con_cls = body;
		return MHD_YES;
	}
	if (*upload_len > 0) {
		*body += *upload_len;
		*upload_len = 0;
		return *body > WEB_BODY_MAX ? MHD_NO : MHD_YES;
	}
	host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST);
	if (!host_ok(host))
		return send_error(conn, 421, "unknown host name in Host");
	get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (get && strncmp(url, "/api/", 5) != 0) {
		if (strcmp(url, "/") == 0)
			url = "/index.html";
		for (a = web_assets; a->path; a++)
			if (strcmp(a->path, url) == 0)
				return send_asset(conn, a);
		return send_error(conn, 404, "no such page");
	}
	if (strncmp(url, "/api/", 5) != 0)
		return send_error(conn, 404, "no such page");
	memset(&r, 0, sizeof(r));
	r.conn = conn;
	r.method = method;
	r.path = url + 5;
	remote_of(conn, r.remote, sizeof(r.remote));
	if (get) {
		if (strcmp(r.path, "session") == 0) {
			snprintf(setcookie, sizeof(setcookie), "tq_csrf=%s; "
			    "Path=/; SameSite=Strict; HttpOnly", W.csrf);
			cookie = setcookie;
		}
		web_api_get(&r, &w);
	} else if (strcmp(method, "POST") == 0) {
		if ((why = post_refused(conn, host, &status)) != NULL) {
			log_warnx("event=web_refused path=/api/%s remote=%s "
			    "why=\"%s\"", r.path, r.remote, why);
			return send_error(conn, status, why);
		}
		web_act_post(&r, &w);
	} else
		return send_error(conn, 405, "method not allowed");
	if (w.json == NULL && w.raw == NULL && w.filename[0] == '\0')
		web_error(&w, 500, "out of memory");
	ret = send_resp(conn, &w, cookie);
	json_decref(w.json);
	free(w.raw);
	return ret;
}

static void
done(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode code)
{
	free(*con_cls);
	*con_cls = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warnx("event=http_error msg=\"%s\"", msg);
}

void *
web_http_start(char *why, size_t whysz)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	char host[128];
	const char *colon, *errstr;
	long long p;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	struct MHD_Daemon *d;
	size_t n;

	memset(&ss, 0, sizeof(ss));
	if ((colon = strrchr(W.listen, ':')) == NULL ||
	    (n = (size_t)(colon - W.listen)) == 0 || n >= sizeof(host)) {
		snprintf(why, whysz, "--listen: \"%s\" is not HOST:PORT",
		    W.listen);
		return NULL;
	}
	memcpy(host, W.listen, n);
	host[n] = '\0';
	if (parse_num(colon + 1, 1, 65535, &p, &errstr) == -1) {
		snprintf(why, whysz, "--listen: port \"%s\" is %s", colon + 1,
		    errstr);
		return NULL;
	}
	port = (unsigned)p;
	if (host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1)
			goto badhost;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_IPv6;
		loopback = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
	} else {
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto badhost;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		loopback = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, serve, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)16,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_NOTIFY_COMPLETED, done, NULL,
	    MHD_OPTION_END);
	if (d == NULL) {
		snprintf(why, whysz, "listen \"%s\": cannot bind (in use, or "
		    "not an address of this host)", W.listen);
		return NULL;
	}
	return d;
badhost:
	snprintf(why, whysz, "--listen: \"%s\" is not an IPv4 or [IPv6] "
	    "address", host);
	return NULL;
}

void
web_http_stop(void *d)
{
	if (d != NULL)
		MHD_stop_daemon(d);
}
