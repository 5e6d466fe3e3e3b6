"""Tokens, password hashing and login throttling: the pieces of SPEC §3 that are not HTTP."""

import asyncio
import collections
import concurrent.futures
import math
import re
import secrets
import time

import attrs
import bcrypt
import jwt

import messages as msg
from store.errors import TooManyRequests, Unauthorized

DURATION = re.compile(r"^(\d+)\s*([smhd]?)$")
UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text):
    """'1h', '30m', '7d' or plain seconds (as the original's JWT_EXPIRES_IN) → seconds."""
    match = DURATION.match(str(text).strip().lower())
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"'{text}' is not a duration like 3600, 30m, 1h or 7d")
    return int(match.group(1)) * UNIT_SECONDS[match.group(2)]


def temporary_password():
    return secrets.token_urlsafe(12)


class Passwords:
    """bcrypt in a thread pool, so a login never stalls the event loop."""

    def __init__(self, rounds, workers=2):
        self.rounds = rounds
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bcrypt")
        self.dummy = None  # made by the first check, off the loop: start-up does not pay a cost-12 hash

    @staticmethod
    def _bytes(password):
        """bcrypt reads at most 72 bytes (as the original's did); bcrypt 5 refuses longer input."""
        return password.encode()[:72]

    async def hash(self, password):
        salt = bcrypt.gensalt(self.rounds)
        digest = await asyncio.get_running_loop().run_in_executor(self.pool, bcrypt.hashpw, self._bytes(password), salt)
        return digest.decode()

    async def check(self, password, digest):
        """Compare against the stored hash, or a dummy one so unknown emails take as long."""
        loop = asyncio.get_running_loop()
        if self.dummy is None:
            salt = bcrypt.gensalt(self.rounds)
            self.dummy = (await loop.run_in_executor(self.pool, bcrypt.hashpw, b"seam-timing-equaliser", salt)).decode()
        target = (digest or self.dummy).encode()
        ok = await loop.run_in_executor(self.pool, bcrypt.checkpw, self._bytes(password), target)
        return ok and digest is not None

    def close(self):
        self.pool.shutdown(wait=False, cancel_futures=True)


@attrs.frozen
class Identity:
    """Who is calling, as the database says now (not as the token said when issued)."""

    user: object
    grants: object
    expires_at: int

    def can(self, permission):
        return permission.lower() in self.grants.permissions


class Tokens:
    DECODED_MAX = 1024  # tokens whose verified claims are remembered; the map is dropped when full

    def __init__(self, secret, expires):
        self.secret = secret
        self.expires_text = expires
        self.lifetime = parse_duration(expires)
        self.decoded = {}

    def issue(self, user, role_name):
        now = int(time.time())
        claims = {
            "idUser": user.idUser,
            "email": user.email,
            "roleId": user.roleId,
            "roleName": role_name,
            "ver": user.tokenVersion,
            "iat": now,
            "exp": now + self.lifetime,
        }
        return jwt.encode(claims, self.secret, algorithm="HS256")

    def decode(self, token):
        """Verified claims; a token seen before skips the HMAC and parsing but not the expiry check."""
        claims = self.decoded.get(token)
        if claims is not None:
            if claims["exp"] <= time.time():
                del self.decoded[token]
                raise Unauthorized(msg.TOKEN_INVALID)
            return claims
        claims = self._verify(token)
        if len(self.decoded) >= self.DECODED_MAX:
            self.decoded.clear()
        self.decoded[token] = claims
        return claims

    def _verify(self, token):
        try:
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], options={"require": ["exp", "iat"]})
        except jwt.PyJWTError:
            raise Unauthorized(msg.TOKEN_INVALID) from None
        if not isinstance(claims.get("idUser"), int) or not isinstance(claims.get("ver"), int):
            raise Unauthorized(msg.TOKEN_INVALID)
        return claims


class Authenticator:
    """Token → Identity, with the (fix) checks of SPEC §3 served from the auth cache."""

    def __init__(self, tokens, cache):
        self.tokens = tokens
        self.cache = cache

    async def identify(self, token):
        claims = self.tokens.decode(token)
        user = await self.cache.user(claims["idUser"])
        if user is None or not user.isActive or user.tokenVersion != claims["ver"]:
            raise Unauthorized(msg.TOKEN_INVALID)
        grants = await self.cache.grants(user.roleId)
        if grants is None:
            raise Unauthorized(msg.TOKEN_INVALID)
        return Identity(user, grants, claims["exp"])


class LoginThrottle:
    """Failed logins per client address and per email within a sliding window (SPEC §3)."""

    def __init__(self, max_failures, window_seconds):
        self.max_failures = max_failures
        self.window = window_seconds
        self.failures = collections.defaultdict(collections.deque)

    def _recent(self, key, now):
        times = self.failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self.failures[key]
            return None
        return times

    def check(self, *keys):
        now = time.monotonic()
        for key in keys:
            times = self._recent(key, now)
            if times is not None and len(times) >= self.max_failures:
                retry = max(1, math.ceil(times[0] + self.window - now))
                raise TooManyRequests(msg.RATE_LIMITED, headers={"Retry-After": str(retry)})

    def fail(self, *keys):
        now = time.monotonic()
        for key in keys:
            self.failures[key].append(now)

    def forget(self, key):
        self.failures.pop(key, None)
