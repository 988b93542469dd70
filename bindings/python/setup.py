"""The extension module of the fastepost package (the metadata is in pyproject.toml).

The SWIG output (generated/fastepost_wrap.c and generated/core.py) is used as it is when
present: a CMake build stages it there for packaging (docs/bindings.md). Otherwise SWIG is run
on ../fastepost.i, so a source checkout builds too. libfastepost is found through pkg-config:
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


def generate():
    if (GENERATED / "fastepost_wrap.c").exists() and (GENERATED / "core.py").exists():
        return
    interface = HERE.parent / "fastepost.i"
    if not interface.exists():
        sys.exit(f"no generated wrapper in {GENERATED} and no {interface} to generate it from")
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
