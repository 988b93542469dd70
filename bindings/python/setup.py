# SPDX-License-Identifier: MIT
"""The extension module of the fastepost package (the metadata is in pyproject.toml).

The SWIG output (generated/fastepost_wrap.c and generated/core.py) is used as it is in a source
distribution (no interface files beside it). In a checkout it is generated with SWIG from
../fastepost.i when missing, and again when the interface, its pieces (../swig/*.i) or the
libfastepost headers are newer than it, so that a stale wrapper is never built. libfastepost is found through pkg-config:
set PKG_CONFIG_PATH for one installed under a custom prefix.
"""

import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
GENERATED = HERE / "generated"
SYSTEM_LIBDIRS = {"/usr/lib", "/usr/lib64", "/lib", "/lib64"}


def pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args, "fastepost"], check=True,
                             capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"libfastepost not found by pkg-config (install it, or set PKG_CONFIG_PATH): {e}")
    return out.stdout.split()


def stale(interface, outputs):
    """An output is missing, or older than the interface, its pieces or the headers it reads."""
    if not all(o.exists() for o in outputs):
        return True
    inputs = [interface, *interface.parent.glob("swig/*.i")]
    for flag in pkg_config("--cflags-only-I"):
        inc = Path(flag[2:])
        inputs += [inc / "fastepost.h", *inc.glob("fastepost/*.h")]
    newest = max((p.stat().st_mtime for p in inputs if p.exists()), default=0)
    return min(o.stat().st_mtime for o in outputs) < newest


def generate():
    outputs = [GENERATED / "fastepost_wrap.c", GENERATED / "core.py"]
    interface = HERE.parent / "fastepost.i"
    if not interface.exists():
        # A source distribution ships the wrapper: used as it is.
        if all(o.exists() for o in outputs):
            return
        sys.exit(f"no generated wrapper in {GENERATED} and no {interface} to generate it from")
    if not stale(interface, outputs):
        return
    GENERATED.mkdir(exist_ok=True)
    subprocess.run(["swig", "-python", "-Wall", *pkg_config("--cflags-only-I"),
                    f"-I{interface.parent}", "-o", str(GENERATED / "fastepost_wrap.c"),
                    "-outdir", str(GENERATED), str(interface)], check=True)


class BuildPy(build_py):
    """Adds the SWIG-generated fastepost/core.py to the package."""

    def run(self):
        super().run()
        shutil.copy(GENERATED / "core.py", Path(self.build_lib) / "fastepost" / "core.py")


generate()
library_dirs = [flag[2:] for flag in pkg_config("--libs-only-L")]
setup(
    version=pkg_config("--modversion")[0],
    ext_modules=[Extension(
        "fastepost._core",
        sources=["generated/fastepost_wrap.c"],
        include_dirs=[flag[2:] for flag in pkg_config("--cflags-only-I")],
        library_dirs=library_dirs,
        libraries=[flag[2:] for flag in pkg_config("--libs-only-l")],
        # A libfastepost outside the default directories is found again at run time.
        runtime_library_dirs=[d for d in library_dirs if d not in SYSTEM_LIBDIRS],
    )],
    cmdclass={"build_py": BuildPy},
)
