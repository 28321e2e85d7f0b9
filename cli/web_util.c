/* web_util.c: what tq web's handlers share, below them all: query
 * arguments, error answers, and bytes as JSON text. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "util.h"

#include "web.h"

const char *
web_arg(const struct web_req *r, const char *name, const char *def)
{
	const char *v = MHD_lookup_connection_value(r->conn,
	    MHD_GET_ARGUMENT_KIND, name);

	return v ? v : def;
}

int
web_error(struct web_resp *w, unsigned status, const char *fmt, ...)
{
	char msg[TQ_ERRSZ];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_decref(w->json);
	w->status = status;
	w->json = json_pack("{s:o}", "error", web_text(msg, strlen(msg),
	    sizeof(msg)));
	return 0;
}

int
web_store_error(struct web_resp *w)
{
	struct client *c = &W.c;

	if (c->store != NULL)
		(void)client_store_failed(c);
	return web_error(w, c->err_temp ? 503 : 500, "%s", c->err);
}

/* The length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned cp, need, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 2, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 3, cp = s[0] & 0x07;
	else
		return 0;
	if (n < need + 1)
		return 0;
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need + 1;
}

json_t *
web_text(const void *data, size_t len, size_t max)
{
	static const char repl[] = "\xef\xbf\xbd";
	const unsigned char *s = data;
	struct buf b = BUF_INIT;
	size_t i, k;
	json_t *j;

	for (i = 0; i < len;) {
		k = utf8_seq(s + i, len - i);
		if (b.len + (k ? k : 3) > max)
			break;
		if (buf_append(&b, k ? (const char *)s + i : repl,
		    k ? k : 3) == -1) {
			buf_release(&b);
			return NULL;
		}
		i += k ? k : 1;
	}
	j = json_stringn(b.data ? b.data : "", b.len);
	buf_release(&b);
	return j;
}
