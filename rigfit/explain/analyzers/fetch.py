"""A UI's launcher failing to fetch its repositories or models: a repository that is gone, no network or DNS, an
authentication prompt (what git does for a repository that does not exist or is private), Hugging Face errors."""

from __future__ import annotations

import re

from rigfit.explain.analyzers.base import Finding, every, first, from_end, last
from rigfit.explain.analyzers.context import Context

# the ids of the findings this module returns (rigfit.explain.analyzers.class_ids)
IDS = (
    "download-interrupted",
    "git-http-error",
    "git-transfer-interrupted",
    "hf-files-not-cached",
    "hf-gated-model",
    "hf-repository-not-found",
    "model-download-failed",
    "network-proxy-down",
    "network-unreachable",
    "ui-repository-gone",
)

SIGNALS = (
    "fatal:", "username for", "could not", "couldn't", "gatedrepoerror", "cannot access", "unable to access",
    "max retries exceeded", "network is unreachable", "temporary failure", "proxy_addr", "getaddrinfo failed",
    "nodename nor servname", "winerror 10060", "urlerror", "http error", "early eof", "rpc failed",
    "failure when receiving data", "hung up unexpectedly", "was not closed cleanly", "socket hang up",
    "etimedout", "econnreset", "enotfound", "url access timed out",
)  # fmt: skip
KEYWORDS = (
    "fatal:", "could not resolve host", "couldn't clone", "couldn't fetch", "couldn't checkout", "username for",
    "authentication failed", "couldn't connect", "repositorynotfounderror", "gatedrepoerror", "401 client error",
    "403 client error", "404 client error", "localentrynotfounderror", "temporary failure in name resolution",
    "certificate_verify_failed", "terminal prompts disabled", "could not read username", "network is unreachable",
    "max retries exceeded", "access to model", "cannot access gated repo", "gated repo", "repository not found",
    "connection refused", "connection timed out", "failed to connect", "connecttimeouterror", "readtimeouterror",
    "name or service not known", "offline mode is enabled", "invalid username or token",
    "password authentication is not supported", "requested url returned error", "early eof", "rpc failed",
    "failure when receiving data", "transfer closed with outstanding", "was not closed cleanly",
    "hung up unexpectedly", "unexpected disconnect while reading sideband", "socket hang up", "etimedout",
    "econnreset", "enotfound", "eai_again", "url access timed out", "request timed out", "curl: (",
    "unexpected end of file", "unexpected eof in archive",
)  # fmt: skip
CONTEXT = (
    "repository", "huggingface.co", "command:", "cloning", "connectionrefusederror", "winerror 10061", "downloading",
)  # fmt: skip

CLONE_FAIL = re.compile(
    r"Couldn't (?:clone|fetch|checkout|install) (?P<what>[^.\n]+?)\.?(?:\s|$)|"
    r"Command: \"?git\"? (?:-C \S+ )?clone (?P<url>\S+)",
    re.I,
)
GIT_URL = re.compile(r"(?P<url>https?://[\w.-]+/[\w.-]+/[\w.-]+?)(?:\.git)?/?['\"\s]")
REPO_GONE = re.compile(
    r"fatal: repository '(?P<url>[^']+)' not found|remote: Repository not found|"
    r"could not read Username for '(?P<host>[^']+)'|Username for '(?P<host2>https://[^']+)':|"
    r"terminal prompts disabled|Authentication failed for '(?P<url2>[^']+)'|"
    r"remote: Invalid username or (?:token|password)|Password authentication is not supported for Git operations",
    re.I,
)
HTTP_REFUSED = re.compile(
    r"unable to access '(?P<url>https?://(?P<host>[\w.-]+)[^']*)': The requested URL returned error: (?P<code>\d{3})",
    re.I,
)
NO_NETWORK = re.compile(
    r"Could not resolve host:? (?P<host>[\w.-]+)|Temporary failure in name resolution|Name or service not known|"
    r"Network is unreachable|Failed to connect to (?P<host2>[\w.-]+)|Connection timed out|Connection refused|"
    r"Max retries exceeded with url|SSL: CERTIFICATE_VERIFY_FAILED|We couldn't connect to '(?P<host3>[^']+)'|"
    r"ConnectTimeoutError|ReadTimeoutError|"
    # Node/Electron installers (ComfyUI desktop, Pinokio, npm): the libuv codes and http's reset message
    r"\bsocket hang up\b|\b(?:ETIMEDOUT|ECONNRESET|ENOTFOUND|EAI_AGAIN)\b|\b(?:URL access|request) timed out\b",
    re.I,
)
URL_HOST = re.compile(r"https?://(?P<host>[\w-]+(?:\.[\w-]+)+)")
GATED_MODEL = re.compile(r"(?:Access to model|Repo model) (?P<model>[\w.-]+/[\w.-]+) is (?:restricted|gated)")
HF_ERROR = re.compile(
    r"(?P<gated>Access to model (?P<gmodel>\S+) is restricted|GatedRepoError|Cannot access gated repo|gated repo)|"
    r"(?P<notfound>RepositoryNotFoundError|Repository Not Found for url: (?P<hfurl>\S+))|"
    r"(?P<auth>401 Client Error)|(?P<entry>LocalEntryNotFoundError|offline mode is enabled)",
    re.I,
)


def analyze(ctx: Context) -> list[Finding]:
    found = (
        _repo_gone(ctx),
        _hugging_face(ctx),
        _http_refused(ctx),
        _socks_proxy_down(ctx),
        _download_failed(ctx),
        _transfer_cut(ctx),
        _no_network(ctx),
    )
    return [f for f in found if f][:1]


SOCKS_CONNECT = re.compile(r"connect\(proxy_addr\)")
REFUSED = re.compile(r"ConnectionRefusedError|WinError 10061|Connection refused", re.I)


def _socks_proxy_down(ctx: Context) -> Finding | None:
    """PySocks connecting to its proxy (socks.py: connect(proxy_addr)) and refused: the process has a SOCKS proxy
    configured (ALL_PROXY, a system proxy) that is not running."""
    hit = first(ctx.lines, SOCKS_CONNECT)
    refused = last(ctx.lines, REFUSED)
    if hit is None or refused is None or refused[0].number < hit[0].number:
        return None
    return _proxy_down([hit[0], refused[0]], "the SOCKS proxy configured for this process", {"proxy": "socks"})


def _repo_gone(ctx: Context) -> Finding | None:
    hit = last(ctx.lines, REPO_GONE)
    if hit is None:
        return None
    line, m = hit
    url = m.group("url") or m.group("url2")
    if url is None:
        for ln in ctx.lines:
            if (u := GIT_URL.search(ln.text + " ")) and "github" in u.group("url"):
                url = u.group("url")
    # the launcher's "Couldn't clone X" message rather than the command it prints after it
    clone = next((h for h in from_end(ctx.lines, CLONE_FAIL) if h[1].group("what")), None) or last(
        ctx.lines, CLONE_FAIL
    )
    facts = {"repository": url or "unknown"}
    evidence = [line] + ([clone[0]] if clone else [])
    cause = (
        f"git cannot fetch {url or 'a repository the launcher needs'}: it does not exist anymore (deleted, renamed "
        "or made private), which GitHub answers with a username prompt or 'repository not found'."
    )
    fix = (
        "Update the UI so it clones current repositories (`git pull` in the UI's folder), or set the repository's "
        "override variable if the launcher has one (A1111: STABLE_DIFFUSION_REPO, K_DIFFUSION_REPO, ...); for an "
        "extension or custom node, remove it or install its maintained fork. Never enter a password at that prompt."
    )
    return Finding(
        "ui-repository-gone",
        "A repository the launcher clones cannot be fetched",
        cause,
        fix,
        evidence,
        facts,
        ["https://docs.github.com/en/repositories/creating-and-managing-repositories/troubleshooting-cloning-errors"],
    )


def _http_refused(ctx: Context) -> Finding | None:
    """git reached a server that answered with an HTTP error: a mirror or proxy in the way (403/5xx), or a URL that
    does not exist (404)."""
    hit = last(ctx.lines, HTTP_REFUSED)
    if hit is None:
        return None
    line, m = hit
    host, code = m.group("host").lower(), m.group("code")
    facts = {"url": m.group("url"), "host": host, "http_status": code}
    clone = last(ctx.lines, CLONE_FAIL)
    evidence = [line] + ([clone[0]] if clone else [])
    if host not in ("github.com", "gitlab.com", "huggingface.co", "bitbucket.org"):
        cause = (
            f"git fetched from {host}, not from the repository's own host, and {host} answered HTTP {code}: a "
            "mirror or proxy set in git's configuration (a url.<mirror>.insteadOf rewrite, or a launcher's mirror "
            "setting) rewrites the GitHub URLs and no longer serves them."
        )
        fix = (
            f"Show the rewrite: `git config --show-origin --get-regexp 'url\\..*insteadof|http.*proxy'`; remove it "
            f"(`git config --global --unset url.<the {host} URL>.insteadOf`) or replace it with a mirror that works, "
            "unset HTTP(S)_PROXY if it points there, then start the UI again."
        )
    else:
        cause = f"{host} answered HTTP {code} for {m.group('url')}: " + (
            "the repository does not exist at that URL (deleted, renamed or private)."
            if code == "404"
            else "the request was refused (rate limit, a blocked network, or a token without access)."
        )
        fix = (
            "Open the URL in a browser: if the repository moved, update the UI (or set its repository override "
            "variable); if it is refused, wait for a rate limit to pass or fix the network's filtering, then start the "
            "UI again."
        )
    return Finding(
        "git-http-error",
        f"git got HTTP {code} from {host}",
        cause,
        fix,
        evidence,
        facts,
        ["https://git-scm.com/docs/git-config#Documentation/git-config.txt-urlltbasegtinsteadOf"],
    )


def _hugging_face(ctx: Context) -> Finding | None:
    hit = last(ctx.lines, HF_ERROR)
    if hit is None:
        return None
    line, m = hit
    facts: dict[str, str] = {}
    if m.group("gated") or m.group("auth"):
        if gated := last(ctx.lines, GATED_MODEL):
            facts["model"] = gated[1].group("model")
        model = facts.get("model")
        page = f"https://huggingface.co/{model}" if model else "the model's page"
        cause = (
            f"{model or 'The model'} is gated or private on Hugging Face: downloading it needs an account that "
            "accepted its license and a token."
        )
        fix = (
            f"Accept the license on {page} while logged in, create a read token "
            "(https://huggingface.co/settings/tokens), then `huggingface-cli login` (or `export HF_TOKEN=...`) in "
            "the shell that starts the UI."
        )
        return Finding(
            "hf-gated-model",
            "Hugging Face refused the download (gated or private model)",
            cause,
            fix,
            [line],
            facts,
            ["https://huggingface.co/docs/hub/models-gated"],
        )
    if m.group("notfound"):
        if m.group("hfurl"):
            facts["url"] = m.group("hfurl")
        cause = (
            "The Hugging Face repository the code asks for does not exist (renamed, removed, or a typo), "
            "or it is private."
        )
        fix = (
            "Check the model id on huggingface.co; if the project renamed its model (runwayml/stable-diffusion-v1-5 "
            "became stable-diffusion-v1-5/stable-diffusion-v1-5), update the code or its config to the new id."
        )
        return Finding(
            "hf-repository-not-found",
            "Hugging Face repository not found",
            cause,
            fix,
            [line],
            facts,
            [
                "https://huggingface.co/docs/huggingface_hub/package_reference/utilities#huggingface_hub.errors.RepositoryNotFoundError"
            ],
        )
    cause = (
        "The files are not in the local Hugging Face cache and the code could not (or was told not to) download them."
    )
    fix = (
        "Connect to the network once and let it download (unset HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE), or download the "
        "files elsewhere with `huggingface-cli download REPO` and copy the cache (~/.cache/huggingface)."
    )
    return Finding(
        "hf-files-not-cached",
        "The model files are not cached and cannot be downloaded",
        cause,
        fix,
        [line],
        facts,
        ["https://huggingface.co/docs/huggingface_hub/guides/manage-cache"],
    )


# git's transfer started and broke off: curl's codes (18 partial file, 56 receive error, 92 HTTP/2 stream) and git's
# own words for a pack that stopped arriving
TRANSFER_CUT = re.compile(
    r"RPC failed; curl (?P<curl>\d+)[^\n]*?(?=error:|fatal:|$)|early EOF|"
    r"unexpected disconnect while reading sideband packet|the remote end hung up unexpectedly|"
    r"Failure when receiving data from the peer|transfer closed with outstanding read data remaining|"
    r"HTTP/2 stream \d+ was not closed cleanly|curl: \((?P<curl_cli>18|56|92)\)",
    re.I,
)
GIT_WORDS = re.compile(r"RPC failed|early EOF|sideband|hung up unexpectedly|Cloning into|fatal: |\bgit\b", re.I)
# what a truncated download does to the archive it was piped into (install.sh's `curl ... | tar xz`, a .tgz)
ARCHIVE_CUT = re.compile(
    r"gzip: stdin: unexpected end of file|Unexpected EOF in archive|zstd: [^\n]*(?:truncated|premature end)|"
    r"xz: [^\n]*Unexpected end of input",
    re.I,
)
GIT_TARGET = re.compile(
    r"unable to access '(?P<url>https?://(?P<host>[\w.-]+)[^']*)'|"
    r"(?:git clone|Cloning into)[^\n]*?(?P<url2>https?://(?P<host2>[\w.-]+)/[\w./-]+)|"
    r"git clone [^\n]*?(?P<url3>https?://(?P<host3>[\w.-]+)/[\w./-]+)",
    re.I,
)


def _transfer_cut(ctx: Context) -> Finding | None:
    """git reached the server and the download broke off mid-transfer: the network (an unstable link, a proxy or
    antivirus that cuts long HTTPS streams, an HTTP/2 hiccup), not the repository and not this machine's setup."""
    cut = every(ctx.lines, TRANSFER_CUT)
    if not cut:
        return None
    if not any(GIT_WORDS.search(line.text) for line in ctx.lines):
        return _download_cut(ctx, cut)
    facts: dict[str, str] = {}
    if curl := next((m.group("curl") for _, m in cut if m.group("curl")), None):
        facts["curl_error"] = curl
    if target := last(ctx.lines, GIT_TARGET):
        m = target[1]
        facts["url"] = m.group("url") or m.group("url2") or m.group("url3")
        facts["host"] = (m.group("host") or m.group("host2") or m.group("host3")).lower()
    where = facts.get("url", "the repository")
    http2 = curl == "92" or any("HTTP/2" in m.group(0) for _, m in cut)
    cause = (
        f"git connected and started downloading {where}, then the transfer broke off before the pack was complete "
        + ("(curl error " + curl + ") " if curl else "")
        + "— the connection dropped (an unstable network, a proxy or antivirus cutting long HTTPS downloads"
        + (", or an HTTP/2 stream reset" if http2 else "")
        + "). The repository and the installer are fine; nothing was installed."
    )
    fix = (
        "Retry the install (delete the half-cloned folder first); if it breaks again, "
        + (
            "switch git to HTTP/1.1 (`git config --global http.version HTTP/1.1`, the failure was on an HTTP/2 "
            "stream) and "
            if http2
            else ""
        )
        + f"download less: `git clone --depth 1 {facts.get('url', 'URL')}` into the folder the launcher uses, then "
        "start it again; on a proxy, VPN or flaky Wi-Fi, try without it or over a cable."
    )
    evidence = [cut[0][0]] + ([target[0]] if target and target[0] is not cut[0][0] else [])
    return Finding(
        "git-transfer-interrupted",
        "git's download broke off mid-transfer",
        cause,
        fix,
        evidence,
        facts,
        [
            "https://curl.se/libcurl/c/libcurl-errors.html",
            "https://git-scm.com/docs/git-config#Documentation/git-config.txt-httpversion",
        ],
    )


def _download_cut(ctx: Context, cut: list) -> Finding | None:
    """curl itself (an install script's `curl URL | tar x`, a launcher's download) lost the connection mid-transfer:
    what arrived is a truncated file, which the archive tool then reports as an unexpected end of file."""
    archive = first(ctx.lines, ARCHIVE_CUT)
    curl = next(
        (m.group("curl_cli") or m.group("curl") for _, m in cut if m.group("curl_cli") or m.group("curl")), None
    )
    if archive is None and curl is None:
        return None
    facts = {"curl_error": curl} if curl else {}
    if url := next((u for line in ctx.lines if (u := URL_HOST.search(line.text))), None):
        facts["host"] = url.group("host").lower()
    http2 = curl == "92" or any("HTTP/2" in m.group(0) for _, m in cut)
    cause = (
        "The download broke off before the file was complete"
        + (f" (curl error {curl}" + (", an HTTP/2 stream reset" if http2 else "") + ")" if curl else "")
        + ": the connection dropped (an unstable network, a proxy or antivirus cutting long downloads)"
        + (
            ", so the archive it was piped into ends early and gzip/tar stop with 'unexpected end of file'"
            if archive
            else ""
        )
        + ". The file on the server is fine; nothing was installed."
    )
    fix = (
        "Run the same command again. If it breaks again, download the file on its own so it can resume, then "
        "unpack it: `curl -fL --http1.1 -C - -O URL` (repeat until it completes; `wget -c URL` does the same), then "
        "`tar -xf FILE` where the script would have; on a proxy, VPN or flaky Wi-Fi try without it or over a cable."
    )
    evidence = [cut[0][0]] + ([archive[0]] if archive and archive[0] is not cut[0][0] else [])
    return Finding(
        "download-interrupted",
        "A download broke off mid-transfer",
        cause,
        fix,
        evidence,
        facts,
        ["https://curl.se/libcurl/c/libcurl-errors.html", "https://curl.se/docs/manpage.html#-C"],
    )


def _no_network(ctx: Context) -> Finding | None:
    hit = last(ctx.lines, NO_NETWORK)
    if hit is None:
        return None
    line, m = hit
    host = m.group("host") or m.group("host2") or m.group("host3")
    if host is None and (url := URL_HOST.search(line.text)) and not LOCAL_HOST.match(url.group("host")):
        host = url.group("host")  # the URL the failed request was for, on the same line
    facts = {"host": host} if host else {}
    if "CERTIFICATE_VERIFY_FAILED" in m.group(0).upper():
        cause = (
            "TLS certificate verification failed: a proxy or antivirus intercepts HTTPS, or the CA certificates "
            "are missing."
        )
        fix = (
            "Install the CA bundle (Debian/Ubuntu: sudo apt install ca-certificates), or give Python your proxy's CA: "
            "`export REQUESTS_CA_BUNDLE=/path/to/ca.pem SSL_CERT_FILE=/path/to/ca.pem`."
        )
    elif host and LOCAL_HOST.match(host) and REMOTE_URL.search(line.text):
        return _dead_local_proxy(line, host)
    else:
        cause = (
            f"The machine could not reach {host or 'the server'} (DNS failure, no network, a firewall or a proxy "
            "that is not configured), so the launcher could not download what it needs."
        )
        fix = (
            f"Check `curl -I https://{host or 'github.com'}`; set HTTPS_PROXY/HTTP_PROXY if you are behind a proxy; "
            "then start the UI again. Once everything is downloaded, A1111/Forge can start offline with "
            "--skip-prepare-environment, and Hugging Face code with HF_HUB_OFFLINE=1."
        )
    if not first(ctx.lines, CLONE_FAIL) and not host:
        return (
            None
            if not re.search(r"Max retries|Failed to connect|resolve", m.group(0), re.I)
            else _net(line, facts, cause, fix)
        )
    return _net(line, facts, cause, fix)


# a launcher fetching a model file: torch.hub's and the UIs' load_file_from_url print `Downloading: "URL" to PATH`
DOWNLOAD = re.compile(
    r"Downloading:?\s+[\"']?(?P<url>https?://(?P<host>[\w.-]+)/[^\s\"']+)[\"']?\s+to\s+(?P<path>\S.*?)\s*$"
)
DOWNLOAD_ERROR = re.compile(
    r"getaddrinfo failed|nodename nor servname|Name or service not known|Temporary failure in name resolution|"
    r"\[Errno -[23]\]|\[Errno 1100[124]\]|WinError 1006[01]|\[Errno (?:60|110)\]|"
    r"Connection (?:timed out|refused|reset)|Operation timed out|Network is unreachable|Max retries exceeded|"
    r"urlopen error|HTTP Error (?P<code>\d{3})",
    re.I,
)
DNS_ERROR = re.compile(
    r"getaddrinfo|nodename nor servname|Name or service not known|name resolution|Errno -[23]\]|Errno 1100[124]\]",
    re.I,
)


def _download_failed(ctx: Context) -> Finding | None:
    """A launcher's model download (`Downloading: "URL" to PATH`) followed by a network error: name the file, the
    host it could not reach and the folder it belongs in, so it can also be fetched by hand."""
    download = last(ctx.lines, DOWNLOAD)
    if download is None:
        return None
    failed = next((h for h in every(ctx.lines, DOWNLOAD_ERROR) if h[0].number > download[0].number), None)
    if failed is None:
        return None
    (line, m), url, host = download, download[1].group("url"), download[1].group("host")
    path = m.group("path").strip("\"'")
    facts = {"url": url, "host": host, "destination": path}
    if failed[1].group("code"):
        facts["http_status"] = failed[1].group("code")
        why = f"{host} answered HTTP {failed[1].group('code')} (the file moved, or needs a login)"
    elif DNS_ERROR.search(failed[0].text):
        why = f"the name {host} does not resolve (no network, DNS down or blocked)"
    else:
        why = f"{host} could not be reached (no network, a firewall, or a proxy that is not configured)"
    cause = f"The UI downloads {url.rsplit('/', 1)[-1]} on start, and {why}, so it stopped."
    fix = (
        f"Check the connection: `curl -I https://{host}`; behind a proxy set HTTPS_PROXY before starting the UI. Or "
        f'download {url} by hand (browser, or `curl -L -o "{path}" "{url}"`) and put it at {path}: the UI uses '
        "a file that is already there instead of downloading it."
    )
    return Finding(
        "model-download-failed",
        f"The UI could not download a model from {host}",
        cause,
        fix,
        [line, failed[0]],
        facts,
        ["https://pytorch.org/docs/stable/hub.html#torch.hub.download_url_to_file"],
    )


LOCAL_HOST = re.compile(r"^(?:127\.\d+\.\d+\.\d+|localhost|::1)$", re.I)
PORT = re.compile(r"port (?P<port>\d+)")
REMOTE_URL = re.compile(r"https?://(?!127\.|localhost|\[?::1)[\w-]+\.[\w.-]+", re.I)  # the server it was meant for


def _dead_local_proxy(line, host: str) -> Finding:
    """A download that tried to connect to this machine itself: the traffic goes to a proxy configured on this
    machine (git's http.proxy, HTTPS_PROXY, pip.conf) that is not running; the remote host was never asked."""
    port = m.group("port") if (m := PORT.search(line.text)) else None
    where = f"{host}:{port}" if port else host
    return _proxy_down([line], f"{where}, a proxy on this machine,", {"proxy": where})


def _proxy_down(evidence: list, where: str, facts: dict[str, str]) -> Finding:
    cause = (
        f"The connection went to {where} and nothing listens there: a proxy is configured "
        "(git's http.proxy/https.proxy, the HTTP(S)_PROXY variables, or pip's config) but the proxy program is not "
        "running, so every request fails before it leaves the machine."
    )
    fix = (
        "Start the proxy program, or stop using it: `git config --global --get-regexp proxy` shows git's setting "
        "(`git config --global --unset http.proxy` and `--unset https.proxy` remove it), `env | grep -i _proxy` the "
        "variables (`unset HTTP_PROXY HTTPS_PROXY ALL_PROXY`, or remove them from webui-user.bat/.sh), `pip config "
        "list` pip's; then start the UI again."
    )
    return Finding(
        "network-proxy-down",
        f"The configured proxy ({facts['proxy']}) is not running",
        cause,
        fix,
        evidence,
        facts,
        ["https://git-scm.com/docs/git-config#Documentation/git-config.txt-httpproxy"],
    )


def _net(line, facts: dict[str, str], cause: str, fix: str) -> Finding:
    return Finding(
        "network-unreachable",
        "The launcher could not reach the network",
        cause,
        fix,
        [line],
        facts,
        ["https://git-scm.com/docs/git-config#Documentation/git-config.txt-httpproxy"],
    )
