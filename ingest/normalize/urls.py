"""Canonical article URLs: one spelling per page, so the same story from the same link is one id.

Only what cannot change the page is rewritten: scheme and host case, default ports, the fragment,
and query parameters that exist purely to track the click. Everything else is kept as written,
including the order of the remaining parameters (some sites route on it).
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Parameters that only attribute a click to a campaign, ad or share button. Each is set by an
# analytics or ad platform and ignored by the page itself; generic names a site could use for
# content ("ref", "source", "id", "page") are deliberately absent.
# fmt: off
_TRACKING_PARAMS = frozenset({
    # Ad-click ids: Meta, Google Ads/DoubleClick, Microsoft, Yandex, X, TikTok, LinkedIn, Pinterest.
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
    "ttclid", "li_fat_id", "epik", "srsltid",
    # Email platforms: Mailchimp, HubSpot, Marketo, Vero, Oracle Eloqua.
    "mc_cid", "mc_eid", "_hsenc", "_hsmi", "__hssc", "__hstc", "__hsfp", "hsctatracking",
    "mkt_tok", "vero_id", "vero_conv", "elqtrackid", "elqtrack",
    # Google Analytics cross-domain linker.
    "_ga", "_gl",
    # Share buttons and news-site campaign codes: Instagram, X (ref_src/ref_url), MSN (ocid),
    # Adobe (s_cid, cmpid, WT.mc_id), The Guardian (CMP), NYT (smid), Olytics, Yahoo consent
    # redirects (guccounter, guce_*), Alibaba (spm), AT Internet (at_*).
    "igshid", "igsh", "ref_src", "ref_url", "ocid", "cmpid", "s_cid", "wt.mc_id", "wt.mc_ev",
    "cmp", "smid", "smtyp", "ncid", "oly_anon_id", "oly_enc_id", "guccounter", "guce_referrer",
    "guce_referrer_sig", "rb_clickid", "spm", "at_medium", "at_campaign", "at_custom1",
    "at_custom2", "at_custom3", "at_custom4",
})
# fmt: on
# Whole families: Urchin/GA (utm_), Piwik and Matomo (pk_, mtm_), HubSpot ads (hsa_).
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")

# Characters left alone when quoting a path or query: everything already legal in a URL,
# plus "%" so existing escapes are not escaped twice.
_SAFE_PATH = "/%:@!$&'()*+,;=~-._"
_SAFE_QUERY = _SAFE_PATH + "?"


def canonical_url(url: str) -> str:
    """The canonical spelling of `url`; never raises (an unusable URL comes back stripped)."""
    stripped = url.strip()
    try:
        return _canonical(stripped)
    except (ValueError, UnicodeError):
        return stripped


def is_tracking_param(name: str) -> bool:
    key = unquote(name).strip().lower()
    return key in _TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES)


def _canonical(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        # file://HOST/path: only the scheme's case and the fragment are ours to change.
        return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    netloc = _netloc(scheme, parts.netloc, parts.hostname, parts.port)
    path = quote(parts.path, safe=_SAFE_PATH) or "/"
    query = _strip_tracking(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _netloc(scheme: str, netloc: str, hostname: str, port: int | None) -> str:
    userinfo = netloc.rpartition("@")[0]
    host = _ascii_host(hostname.rstrip("."))
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{userinfo}@{host}" if userinfo else host


def _ascii_host(host: str) -> str:
    """Punycode for internationalized names, so both spellings of a host agree."""
    if host.isascii():
        return host.lower()
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        # Names the IDNA 2003 codec refuses (some emoji, long labels) stay as Unicode.
        return host.lower()


def _strip_tracking(query: str) -> str:
    kept = [
        quote(pair, safe=_SAFE_QUERY)
        for pair in query.split("&")
        if pair and not is_tracking_param(pair.partition("=")[0])
    ]
    return "&".join(kept)
