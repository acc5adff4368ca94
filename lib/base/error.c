/* error: filling and decorating ice_err values. */
#include "config.h"
#include "ice_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ice_err_set(ice_err *err, ice_code code, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return code;
}

int ice_err_prefix(ice_err *err, const char *fmt, ...)
{
	char prefix[ICE_ERR_MSG_MAX];
	size_t lp, lm;
	va_list ap;

	if (!err)
		return ICE_OK;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	lp = strlen(prefix);
	lm = strlen(err->msg);
	/* Keep the end of the message when both do not fit. */
	if (lp >= sizeof err->msg)
		lp = sizeof err->msg - 1;
	if (lp + lm >= sizeof err->msg)
		lm = sizeof err->msg - 1 - lp;
	memmove(err->msg + lp, err->msg, lm);
	memcpy(err->msg, prefix, lp);
	err->msg[lp + lm] = '\0';
	return err->code;
}

void ice_err_clear(ice_err *err)
{
	if (err) {
		err->code = ICE_OK;
		err->msg[0] = '\0';
	}
}

const char *ice_code_name(ice_code code)
{
	switch (code) {
	case ICE_OK: return "ok";
	case ICE_EINVAL: return "invalid input";
	case ICE_ENOENT: return "not found";
	case ICE_EIO: return "i/o error";
	case ICE_EFORMAT: return "format error";
	case ICE_EUNSUPPORTED: return "unsupported";
	case ICE_ENOMEM: return "out of memory";
	case ICE_ETOOBIG: return "too big";
	case ICE_EBACKEND: return "backend error";
	case ICE_ETIMEOUT: return "timeout";
	case ICE_EPIPE: return "broken pipe";
	case ICE_EBUSY: return "busy";
	case ICE_EACCES: return "access denied";
	}
	return "error";
}
