"""Password hashing: bcrypt off the event loop, with a dummy hash so unknown emails cost as much."""

import asyncio
import concurrent.futures
import secrets

import bcrypt


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
