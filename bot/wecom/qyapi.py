"""The few qyapi (企业微信 server API) calls the channel makes, over httpx, with access-token caching.

- `gettoken`: one token per secret (the self-built app's, the archive's), cached until it expires.
- `message/send`: an app message to employees (private; ≤ 30/min and 1,000/h per member per app).
- `msgaudit/check_room_agree`: who in an external group agreed to the archive (≤ 1,500/min).
- `msgaudit/get_permit_user_list`: the employees whose chats are archived.
- `get_jsapi_ticket`, `ticket/get?type=agent_config`: JS-SDK signatures for the sidebar page.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

import httpx

EXPIRED = {40014, 42001, 42007, 42009}  # invalid or expired access_token: fetch a new one once


class QyApiError(RuntimeError):
    """A qyapi call failed: `errcode` is WeCom's (or -1 for a network failure)."""

    def __init__(self, path: str, errcode: int, errmsg: str) -> None:
        super().__init__(f"{path}: errcode {errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


@dataclass
class _Token:
    value: str
    expires_at: float


class QyApi:
    """A small async client for `api_base` (the official host, or a fake in tests)."""

    def __init__(self, api_base: str, corp_id: str, timeout_s: float = 10.0) -> None:
        self.base = api_base.rstrip("/")
        self.corp_id = corp_id
        self._http = httpx.AsyncClient(base_url=self.base, timeout=timeout_s)
        self._tokens: dict[str, _Token] = {}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def token(self, secret: str, *, fresh: bool = False) -> str:
        """The access token for `secret` (cached, renewed 5 minutes before it expires)."""
        key = hashlib.sha256(secret.encode()).hexdigest()  # never keep the secret as a dict key in dumps
        cached = self._tokens.get(key)
        if cached is not None and not fresh and cached.expires_at > time.monotonic():
            return cached.value
        data = await self._call(
            "GET", "/cgi-bin/gettoken", params={"corpid": self.corp_id, "corpsecret": secret}
        )
        token = str(data["access_token"])
        self._tokens[key] = _Token(token, time.monotonic() + float(data.get("expires_in", 7200)) - 300)
        return token

    async def _call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> dict[str, Any]:
        try:
            response = await self._http.request(method, path, params=params, json=json)
            response.raise_for_status()
            data: dict[str, Any] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise QyApiError(path, -1, type(exc).__name__) from exc
        if int(data.get("errcode", 0)) != 0:
            raise QyApiError(path, int(data["errcode"]), str(data.get("errmsg", "")))
        return data

    async def _authed(self, secret: str, method: str, path: str, **kw: Any) -> dict[str, Any]:
        params = dict(kw.pop("params", None) or {})
        for attempt in (0, 1):
            params["access_token"] = await self.token(secret, fresh=attempt == 1)
            try:
                return await self._call(method, path, params=params, **kw)
            except QyApiError as exc:
                if exc.errcode not in EXPIRED or attempt == 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def send_app_text(self, secret: str, agent_id: int, userids: list[str], text: str) -> str:
        """An app message to employees; WeCom's msgid."""
        body = {
            "touser": "|".join(userids),
            "msgtype": "text",
            "agentid": agent_id,
            "text": {"content": text},
        }
        data = await self._authed(secret, "POST", "/cgi-bin/message/send", json=body)
        return str(data.get("msgid") or "")

    async def room_agreement(self, secret: str, roomid: str) -> dict[str, bool]:
        """External members of an archived group: external user id → agreed to the archive."""
        data = await self._authed(
            secret, "POST", "/cgi-bin/msgaudit/check_room_agree", json={"roomid": roomid}
        )
        out: dict[str, bool] = {}
        for item in data.get("agreeinfo") or []:
            # the documented field name is spelled "exteranalopenid"
            who = item.get("exteranalopenid") or item.get("externalopenid")
            if who:
                out[str(who)] = item.get("agree_status") == "Agree"
        return out

    async def permit_users(self, secret: str) -> list[str]:
        """Employees whose conversations are archived."""
        data = await self._authed(secret, "POST", "/cgi-bin/msgaudit/get_permit_user_list", json={})
        return [str(i) for i in data.get("ids") or []]

    async def jsapi_tickets(self, secret: str) -> tuple[str, str]:
        """(corp jsapi ticket, agent_config ticket) for JS-SDK signatures."""
        corp = await self._authed(secret, "GET", "/cgi-bin/get_jsapi_ticket")
        agent = await self._authed(secret, "GET", "/cgi-bin/ticket/get", params={"type": "agent_config"})
        return str(corp["ticket"]), str(agent["ticket"])


def jsapi_signature(ticket: str, nonce: str, timestamp: int, url: str) -> str:
    """The JS-SDK signature: sha1 of the sorted query string (WeCom's documented algorithm)."""
    raw = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url.split('#')[0]}"
    return hashlib.sha1(raw.encode()).hexdigest()  # noqa: S324 - the algorithm WeCom mandates
