"""The archive (会话内容存档) behind a small interface, and the official Finance SDK library under it.

`ArchiveSource` is all the puller needs: `fetch(seq, limit)` the encrypted items after `seq`, and
`decrypt(random_key, encrypt_chat_msg)` one message (WeCom's own symmetric scheme, DecryptData).
`FinanceSdk` implements it with `libWeWorkFinanceSdk_C.so` (shipped in the MIT-licensed
pyweworkfinance wheel, or a path the operator gives), loaded with ctypes. Each item's
`encrypt_random_key` is RSA-encrypted with the corp's public key; `KeyRing` decrypts it with the
private key (PKCS#1 v1.5, `cryptography`) before DecryptData is called.
"""

from __future__ import annotations

import base64
import ctypes
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SDK_ERRORS = {
    10000: "参数错误",
    10001: "网络错误（连不上企业微信，或代理设置有误）",
    10002: "数据解析失败",
    10003: "系统失败",
    10004: "密钥错误导致加密失败",
    10005: "fileid错误",
    10006: "解密失败",
    10007: "找不到消息加密版本的私钥",
    10008: "解析encrypt_key出错",
    10009: "IP 不在可信 IP 列表",
    10010: "数据过期（超过 5 天）",
    10011: "证书错误",
}


_PEM = re.compile(rb"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", re.S)


MIN_ENCRYPTED_LEN = 16  # DecryptData (SDK 2024) aborts on an encrypt_chat_msg shorter than 13 characters


class ArchiveError(RuntimeError):
    """The archive cannot be read: a code (the SDK's, or WeCom's errcode) and a clear reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"会话存档错误 {code}：{reason}")
        self.code = code


@dataclass(frozen=True)
class EncryptedChat:
    """One item of GetChatData: the message is encrypted, its key RSA-encrypted for the corp."""

    seq: int
    msgid: str
    publickey_ver: int
    encrypt_random_key: str
    encrypt_chat_msg: str


class ArchiveSource(Protocol):
    """Where archived messages come from (blocking calls: the puller runs them in a thread)."""

    def fetch(self, seq: int, limit: int) -> list[EncryptedChat]:
        """Items with a sequence number above `seq`, at most `limit` (≤ 1000)."""
        ...

    def decrypt(self, random_key: str, encrypt_chat_msg: str) -> dict[str, Any]:
        """One message in clear, given its decrypted random key."""
        ...


class KeyRing:
    """The corp's RSA private keys (a PEM file may hold several: one per public key version)."""

    def __init__(self, keys: Iterable[rsa.RSAPrivateKey]) -> None:
        self.keys = list(keys)

    @classmethod
    def from_file(cls, path: Path) -> KeyRing:
        """Read every PEM private key in `path`; a clear error when there is none."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ArchiveError(
                -1, f"读不到私钥文件 {path}（GRIDBOT_WECOM__ARCHIVE_PRIVATE_KEY_FILE）：{exc.strerror}"
            ) from None
        keys = []
        for pem in _PEM.findall(data):
            key = serialization.load_pem_private_key(pem, password=None)
            if isinstance(key, rsa.RSAPrivateKey):
                keys.append(key)
        if not keys:
            raise ArchiveError(-1, f"{path} 里没有 RSA 私钥（PEM）：请放入与管理后台公钥对应的私钥")
        return cls(keys)

    def random_key(self, encrypt_random_key: str) -> str:
        """The message's random key: RSA (PKCS#1 v1.5) decrypt of the base64 `encrypt_random_key`."""
        blob = base64.b64decode(encrypt_random_key)
        for key in self.keys:
            try:
                return key.decrypt(blob, padding.PKCS1v15()).decode()
            except ValueError:
                continue
        raise ArchiveError(10007, SDK_ERRORS[10007] + "：检查私钥文件与管理后台的公钥版本")


class _Slice(ctypes.Structure):
    _fields_ = [("buf", ctypes.c_char_p), ("len", ctypes.c_int)]


def default_library() -> Path:
    """The Finance SDK library inside the pyweworkfinance wheel (Linux x86_64 / arm64)."""
    import platform

    try:
        import pyweworkfinance
    except ImportError:
        raise ArchiveError(
            -1, "未安装 pyweworkfinance：pip install 'gridbot[wecom]'，或设置 GRIDBOT_WECOM__ARCHIVE_SDK_PATH"
        ) from None
    name = (
        "libWeWorkFinanceSdk_C_arm.so"
        if platform.machine() in ("arm64", "aarch64")
        else "libWeWorkFinanceSdk_C_x86.so"
    )
    return Path(pyweworkfinance.__file__).parent / "libs" / "linux" / name


class FinanceSdk:
    """ArchiveSource over the official Finance SDK shared library (one SDK handle per process)."""

    def __init__(
        self,
        corp_id: str,
        secret: str,
        library: Path | None = None,
        *,
        timeout_s: int = 10,
        proxy: str = "",
        proxy_password: str = "",
    ) -> None:
        path = library or default_library()
        if not path.is_file():
            raise ArchiveError(-1, f"找不到会话存档 SDK 库 {path}（GRIDBOT_WECOM__ARCHIVE_SDK_PATH）")
        try:
            self.lib = ctypes.CDLL(str(path))
        except OSError as exc:
            raise ArchiveError(-1, f"无法加载会话存档 SDK 库 {path}：{exc}") from None
        lib = self.lib
        lib.NewSdk.restype = ctypes.c_void_p
        lib.Init.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
        lib.Init.restype = ctypes.c_int
        lib.GetChatData.argtypes = [
            ctypes.c_void_p,
            ctypes.c_ulonglong,
            ctypes.c_uint,
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.POINTER(_Slice),
        ]
        lib.GetChatData.restype = ctypes.c_int
        lib.DecryptData.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.POINTER(_Slice)]
        lib.DecryptData.restype = ctypes.c_int
        lib.NewSlice.restype = ctypes.POINTER(_Slice)
        lib.FreeSlice.argtypes = [ctypes.POINTER(_Slice)]
        lib.GetContentFromSlice.argtypes = [ctypes.POINTER(_Slice)]
        lib.GetContentFromSlice.restype = ctypes.c_char_p
        lib.DestroySdk.argtypes = [ctypes.c_void_p]
        self.timeout_s = timeout_s
        self.proxy = proxy.encode()
        self.proxy_password = proxy_password.encode()
        self.sdk = lib.NewSdk()
        code = lib.Init(self.sdk, corp_id.encode(), secret.encode())
        if code != 0:
            raise ArchiveError(
                code, SDK_ERRORS.get(code, "初始化失败") + "：检查 GRIDBOT_WECOM__CORP_ID 与 ARCHIVE_SECRET"
            )
        self._lock = threading.Lock()  # one GetChatData at a time per handle

    def fetch(self, seq: int, limit: int) -> list[EncryptedChat]:
        """GetChatData; bounded by the SDK's own timeout (a network failure is error 10001)."""
        out = self.lib.NewSlice()
        try:
            with self._lock:
                code = self.lib.GetChatData(
                    self.sdk, seq, min(limit, 1000), self.proxy, self.proxy_password, self.timeout_s, out
                )
            if code != 0:
                raise ArchiveError(code, SDK_ERRORS.get(code, "拉取失败"))
            data = json.loads(self.lib.GetContentFromSlice(out) or b"{}")
        finally:
            self.lib.FreeSlice(out)
        if int(data.get("errcode", 0)) != 0:
            raise ArchiveError(int(data["errcode"]), str(data.get("errmsg", "")))
        return [
            EncryptedChat(
                seq=int(i["seq"]),
                msgid=str(i["msgid"]),
                publickey_ver=int(i.get("publickey_ver", 0)),
                encrypt_random_key=str(i["encrypt_random_key"]),
                encrypt_chat_msg=str(i["encrypt_chat_msg"]),
            )
            for i in data.get("chatdata") or []
        ]

    def decrypt(self, random_key: str, encrypt_chat_msg: str) -> dict[str, Any]:
        """DecryptData: the message JSON in clear."""
        if len(encrypt_chat_msg) < MIN_ENCRYPTED_LEN:
            # the library aborts the whole process (an uncaught C++ exception) on shorter input
            raise ArchiveError(10002, SDK_ERRORS[10002] + "：encrypt_chat_msg 过短")
        out = self.lib.NewSlice()
        try:
            code = self.lib.DecryptData(random_key.encode(), encrypt_chat_msg.encode(), out)
            if code != 0:
                raise ArchiveError(code, SDK_ERRORS.get(code, "解密失败"))
            result: dict[str, Any] = json.loads(self.lib.GetContentFromSlice(out) or b"{}")
            return result
        finally:
            self.lib.FreeSlice(out)

    def close(self) -> None:
        if self.sdk:
            self.lib.DestroySdk(self.sdk)
            self.sdk = None
