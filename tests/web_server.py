"""A real web server over a demo workspace, for tests that talk HTTP (browser and API tests).

``demo_workspace(root)`` builds the running-shoes example with generated, loaded and stitched
demo data and one user per role (:data:`USERS`); ``serve(root)`` runs the web app with uvicorn
in a background thread on a free loopback port and yields its base URL::

    ws = demo_workspace(tmp_path / "shoes")
    with serve(ws.root) as base_url:
        httpx.post(f"{base_url}/api/login", json={"name": "vera", "password": ...})
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from journeylens.web.accounts import Role
from journeylens.web.app import create_app, open_accounts
from journeylens.workspace import Workspace


@dataclass(frozen=True)
class WebUser:
    name: str
    password: str
    role: Role


#: One user per role, created by :func:`demo_workspace`.
USERS: dict[Role, WebUser] = {
    "viewer": WebUser("vera", "Viewer-pass-2025!", "viewer"),
    "editor": WebUser("eddie", "Editor-pass-2025!", "editor"),
    "admin": WebUser("ada", "Admin-pass-2025!", "admin"),
}


def demo_workspace(
    root: Path,
    *,
    events: int = 8000,
    seed: int = 1,
    users: dict[Role, WebUser] | None = None,
) -> Workspace:
    """The running-shoes example at ``root`` with demo data loaded and stitched, and users."""
    workspace = Workspace.init(root, example="running-shoes")
    if events:
        workspace.demo_data(events=events, seed=seed, load=True)
        workspace.stitch()
    accounts = open_accounts(workspace.root)
    for user in (users if users is not None else USERS).values():
        accounts.add_user(user.name, user.password, user.role)
    return workspace


def build_app(root: Path) -> FastAPI:
    """The app as ``journeylens serve`` builds it."""
    return create_app(root)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(
    root: Path, *, app: FastAPI | None = None, startup_timeout: float = 60.0
) -> Iterator[str]:
    """Serve the workspace at ``root`` on 127.0.0.1 in a thread; yields the base URL."""
    port = _free_port()
    config = uvicorn.Config(
        app or build_app(root), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the web server stopped while starting")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the web server did not start within {startup_timeout} s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (one per test module: a live sync
    Playwright blocks another in the same thread)."""
    from playwright.sync_api import sync_playwright

    from journeylens.render.raster import find_chromium

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=find_chromium(),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
        )
        yield launched
        launched.close()
