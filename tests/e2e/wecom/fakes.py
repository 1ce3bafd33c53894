"""A fake WeCom for the tests, written from the documented contracts and driven by the real SDKs.

- `FakeAiBot`: the AI-bot long-connection server (TLS WebSocket, a throwaway CA) speaking the frames
  of wecom-aibot-python-sdk: `aibot_subscribe` (auth), `ping`, `aibot_msg_callback` /
  `aibot_event_callback` pushes, `aibot_send_msg` / `aibot_respond_msg` with their acks.
- `FakeQyApi`: the qyapi HTTP endpoints the channel calls (gettoken, message/send,
  msgaudit/check_room_agree, get_permit_user_list, JS-SDK tickets).
- `FakeArchive`: an ArchiveSource whose items carry a random key RSA-encrypted (PKCS#1 v1.5) with
  the corp's public key, like GetChatData. The message itself is encrypted with that key by
  AES-256-CBC: WeCom's own DecryptData scheme is not documented, so the fake provides `decrypt`
  for its own items (the equivalent of the SDK's DecryptData behind the same interface).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import padding as rsa_padding
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID
from websockets.asyncio.server import ServerConnection, serve

from gridbot.bot.wecom.finance import EncryptedChat


# ---- TLS for the fake AI bot endpoint --------------------------------------------------------
def make_tls(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost: (ca, cert, key) files."""
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake wecom test CA")])
    now = dt.datetime.now(dt.UTC)
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


# ---- the AI bot long connection --------------------------------------------------------------
class FakeAiBot:
    """The AI-bot WebSocket endpoint: one bot (id + secret); records what the bot sends."""

    ACKED = {"aibot_send_msg", "aibot_respond_msg", "aibot_respond_update_msg", "aibot_respond_welcome_msg"}

    def __init__(self, bot_id: str, secret: str) -> None:
        self.bot_id, self.secret = bot_id, secret
        self.sent: list[dict[str, Any]] = []  # every acked frame the bot sent: {"cmd", "body"}
        self.pings = 0
        self.auth_failures = 0
        self.connections = 0
        self._conn: ServerConnection | None = None
        self._changed = asyncio.Condition()
        self._server: Any = None
        self.url = ""

    async def start(self, ssl_context: Any) -> None:
        self._server = await serve(self._handle, "127.0.0.1", 0, ssl=ssl_context)
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"wss://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def drop(self) -> None:
        """Close the current connection (the SDK is expected to reconnect)."""
        if self._conn is not None:
            await self._conn.close()

    async def _handle(self, ws: ServerConnection) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            cmd, req_id = frame.get("cmd"), frame.get("headers", {}).get("req_id", "")
            if cmd == "aibot_subscribe":
                body = frame.get("body") or {}
                if (body.get("bot_id"), body.get("secret")) != (self.bot_id, self.secret):
                    self.auth_failures += 1
                    await ws.send(
                        json.dumps(
                            {
                                "headers": {"req_id": req_id},
                                "errcode": 40058,
                                "errmsg": "invalid bot_id or secret",
                            }
                        )
                    )
                    continue
                self._conn = ws
                self.connections += 1
                await ws.send(json.dumps({"headers": {"req_id": req_id}, "errcode": 0, "errmsg": "ok"}))
                async with self._changed:
                    self._changed.notify_all()
            elif cmd == "ping":
                self.pings += 1
                await ws.send(json.dumps({"headers": {"req_id": req_id}, "errcode": 0, "errmsg": "ok"}))
            elif cmd in self.ACKED:
                if ws is not self._conn:
                    await ws.send(
                        json.dumps(
                            {"headers": {"req_id": req_id}, "errcode": 40058, "errmsg": "not subscribed"}
                        )
                    )
                    continue
                self.sent.append({"cmd": cmd, "req_id": req_id, "body": frame.get("body") or {}})
                await ws.send(json.dumps({"headers": {"req_id": req_id}, "errcode": 0, "errmsg": "ok"}))
                async with self._changed:
                    self._changed.notify_all()

    async def wait_connected(self, count: int = 1, timeout: float = 10.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.connections >= count), timeout)

    async def _push(self, cmd: str, body: dict[str, Any]) -> str:
        assert self._conn is not None, "no bot connected"
        req_id = f"{cmd}_{secrets.token_hex(6)}"
        await self._conn.send(json.dumps({"cmd": cmd, "headers": {"req_id": req_id}, "body": body}))
        return req_id

    async def push_text(self, userid: str, text: str, chatid: str | None = None) -> str:
        """A staff member's text: a DM, or (with chatid) an @-mention in a group; the msgid."""
        msgid = secrets.token_hex(8)
        body: dict[str, Any] = {
            "msgid": msgid,
            "aibotid": self.bot_id,
            "chattype": "group" if chatid else "single",
            "from": {"userid": userid},
            "msgtype": "text",
            "text": {"content": f"@网格助手 {text}" if chatid else text},
        }
        if chatid:
            body["chatid"] = chatid
        await self._push("aibot_msg_callback", body)
        return msgid

    async def push_click(self, userid: str, event_key: str, task_id: str) -> str:
        """A template card button tap; the msgid."""
        msgid = secrets.token_hex(8)
        await self._push(
            "aibot_event_callback",
            {
                "msgid": msgid,
                "create_time": int(time.time()),
                "aibotid": self.bot_id,
                "from": {"userid": userid},
                "chattype": "single",
                "msgtype": "event",
                "event": {
                    "eventtype": "template_card_event",
                    "template_card_event": {
                        "card_type": "button_interaction",
                        "event_key": event_key,
                        "task_id": task_id,
                    },
                },
            },
        )
        return msgid

    def mark(self) -> int:
        """A position in `sent`: pass it as `after` to wait for frames sent from now on."""
        return len(self.sent)

    async def wait_sent(self, match: Any, timeout: float = 15.0, after: int = 0) -> dict[str, Any]:
        """The first frame sent (from position `after`) for which `match(frame)` holds."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: any(match(f) for f in self.sent[after:])), timeout
            )
        return next(f for f in self.sent[after:] if match(f))


def to(chatid: str, contains: str = "", msgtype: str | None = None) -> Any:
    """A `wait_sent` matcher: a proactive message to `chatid` whose text contains `contains`."""

    def match(frame: dict[str, Any]) -> bool:
        body = frame["body"]
        if frame["cmd"] != "aibot_send_msg" or body.get("chatid") != chatid:
            return False
        if msgtype and body.get("msgtype") != msgtype:
            return False
        return contains in json.dumps(body, ensure_ascii=False)

    return match


# ---- qyapi over HTTP -------------------------------------------------------------------------
@dataclass
class FakeQyApi:
    """The qyapi endpoints used; `agree[roomid][external id]` answers check_room_agree."""

    corp_id: str
    secrets_: set[str]
    agree: dict[str, dict[str, bool]] = field(default_factory=dict)
    app_messages: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # OAuth code -> userid
    url: str = ""

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _reply(self, data: dict[str, Any]) -> None:
                raw = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:  # noqa: N802
                self._reply(fake.handle(self.path, None))

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                self._reply(fake.handle(self.path, body))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, raw_path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        url = urlparse(raw_path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.calls.append(url.path)
        if url.path == "/cgi-bin/gettoken":
            if q.get("corpid") != self.corp_id or q.get("corpsecret") not in self.secrets_:
                return {"errcode": 40001, "errmsg": "invalid credential"}
            token = secrets.token_hex(16)
            self.tokens[token] = q["corpsecret"]
            return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        if q.get("access_token") not in self.tokens:
            return {"errcode": 40014, "errmsg": "invalid access_token"}
        if url.path == "/cgi-bin/message/send":
            assert body is not None
            self.app_messages.append(body)
            return {"errcode": 0, "errmsg": "ok", "msgid": secrets.token_hex(8)}
        if url.path == "/cgi-bin/msgaudit/check_room_agree":
            assert body is not None
            info = [
                {
                    "status_change_time": int(time.time()),
                    "exteranalopenid": who,
                    "agree_status": "Agree" if ok else "Disagree",
                }
                for who, ok in self.agree.get(body["roomid"], {}).items()
            ]
            return {"errcode": 0, "errmsg": "ok", "agreeinfo": info}
        if url.path == "/cgi-bin/auth/getuserinfo":  # the sidebar's OAuth code
            userid = self.codes.get(q.get("code", ""))
            return (
                {"errcode": 0, "errmsg": "ok", "userid": userid}
                if userid
                else {"errcode": 40029, "errmsg": "invalid code"}
            )
        if url.path == "/cgi-bin/msgaudit/get_permit_user_list":
            return {"errcode": 0, "errmsg": "ok", "ids": ["wangxw"]}
        if url.path in ("/cgi-bin/get_jsapi_ticket", "/cgi-bin/ticket/get"):
            return {
                "errcode": 0,
                "errmsg": "ok",
                "ticket": "ticket-" + url.path.rsplit("/", 1)[-1],
                "expires_in": 7200,
            }
        return {"errcode": 404, "errmsg": f"fake: no {url.path}"}


# ---- the archive ----------------------------------------------------------------------------
class FakeArchive:
    """GetChatData over an in-memory log; random keys RSA-encrypted with the corp's public key."""

    def __init__(self, public_key: rsa.RSAPublicKey, publickey_ver: int = 1) -> None:
        self.public_key, self.publickey_ver = public_key, publickey_ver
        self.items: list[EncryptedChat] = []
        self.fetches: list[tuple[int, int]] = []
        self._lock = threading.Lock()

    def post(self, roomid: str, sender: str, text: str, at: dt.datetime | None = None) -> str:
        """A message in an external group, as the archive will return it; its msgid."""
        msgid = f"{secrets.token_hex(8)}_external"
        at = at or dt.datetime.now(dt.UTC)
        plain = {
            "msgid": msgid,
            "action": "send",
            "from": sender,
            "tolist": [],
            "roomid": roomid,
            "msgtime": int(at.timestamp() * 1000),
            "msgtype": "text",
            "text": {"content": text},
        }
        random_key = secrets.token_hex(16)  # 32 characters: an AES-256 key
        enc_key = self.public_key.encrypt(random_key.encode(), rsa_padding.PKCS1v15())
        iv = os.urandom(16)
        padder = padding.PKCS7(128).padder()
        data = padder.update(json.dumps(plain, ensure_ascii=False).encode()) + padder.finalize()
        enc = Cipher(algorithms.AES(random_key.encode()), modes.CBC(iv)).encryptor()
        blob = iv + enc.update(data) + enc.finalize()
        with self._lock:
            self.items.append(
                EncryptedChat(
                    seq=len(self.items) + 1,
                    msgid=msgid,
                    publickey_ver=self.publickey_ver,
                    encrypt_random_key=base64.b64encode(enc_key).decode(),
                    encrypt_chat_msg=base64.b64encode(blob).decode(),
                )
            )
        return msgid

    def fetch(self, seq: int, limit: int) -> list[EncryptedChat]:
        assert 0 < limit <= 1000, "GetChatData takes at most 1000"
        with self._lock:
            self.fetches.append((seq, limit))
            return [i for i in self.items if i.seq > seq][:limit]

    def decrypt(self, random_key: str, encrypt_chat_msg: str) -> dict[str, Any]:
        blob = base64.b64decode(encrypt_chat_msg)
        dec = Cipher(algorithms.AES(random_key.encode()), modes.CBC(blob[:16])).decryptor()
        unpadder = padding.PKCS7(128).unpadder()
        data = unpadder.update(dec.update(blob[16:]) + dec.finalize()) + unpadder.finalize()
        result: dict[str, Any] = json.loads(data)
        return result


def corp_keys(directory: Path) -> tuple[rsa.RSAPublicKey, Path]:
    """A corp RSA key pair: the public key (uploaded to WeCom) and the private key file (PKCS#1 PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = directory / "archive_private.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return key.public_key(), path
