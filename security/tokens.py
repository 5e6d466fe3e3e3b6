"""JWTs (SPEC §3) and the identity behind one: the token decides who, the database what they may do now."""

import time

import attrs
import jwt

import messages as msg
from security.durations import parse_duration
from store.errors import Unauthorized


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
