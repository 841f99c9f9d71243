"""A real one-node Slurm cluster on localhost, for testing the Slurm executor.

``slurm_cluster`` (session-scoped) installs ``slurm-wlm`` and ``munge`` with
apt when they are missing (only as root with apt-get; otherwise the test is
skipped and says why), then starts, in a private temporary folder and on free
ports: ``munged`` with a fresh key, ``slurmctld`` and ``slurmd -N localhost``
from a minimal ``slurm.conf`` (one node, partition ``debug``, no accounting,
no cgroups). It waits until ``sinfo`` shows the node idle, points
``SLURM_CONF`` at the file for the session, and stops every daemon it
started at the end.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

DAEMONS = ("slurmctld", "slurmd", "munged", "sbatch", "squeue", "sinfo", "scontrol")
START_TIMEOUT_S = 90


@dataclass(frozen=True)
class SlurmCluster:
    conf: Path
    folder: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _missing() -> list[str]:
    return [d for d in DAEMONS if shutil.which(d) is None and not Path("/usr/sbin", d).exists()]


def _install() -> None:
    """``apt-get install slurm-wlm munge``, or skip with the reason."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(f"Slurm is not installed ({', '.join(_missing())} missing) and cannot be installed here "
                    "(installing needs root and apt-get); install slurm-wlm and munge to run this test")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "slurm-wlm", "munge"]):
        done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            pytest.skip(f"installing Slurm failed ({' '.join(argv)} exited {done.returncode}): "
                        f"{(done.stderr or done.stdout)[-800:]}")
    if _missing():
        pytest.skip(f"apt-get installed slurm-wlm and munge, but {', '.join(_missing())} are still missing")


def _sbin(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _node_line() -> str:
    """This machine as ``slurmd -C`` sees it, named localhost, with a little memory held back."""
    done = subprocess.run([_sbin("slurmd"), "-C"], capture_output=True, text=True, timeout=60)
    line = next((l for l in done.stdout.splitlines() if l.startswith("NodeName=")), "")
    if not line:
        return f"NodeName=localhost NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 1} RealMemory=1000 State=UNKNOWN"
    fields = dict(f.split("=", 1) for f in line.split() if "=" in f and not f.startswith("UpTime"))
    fields["NodeName"] = "localhost"
    fields["RealMemory"] = str(max(500, int(int(fields.get("RealMemory", "1000")) * 0.8)))
    return " ".join(f"{k}={v}" for k, v in fields.items()) + " NodeAddr=127.0.0.1 State=UNKNOWN"


def slurm_conf(folder: Path, *, munge_socket: Path, ctld_port: int, slurmd_port: int) -> str:
    """The minimal one-node configuration that works in a container without cgroups or accounting."""
    return "\n".join([
        "ClusterName=diffgrade-test",
        "SlurmctldHost=localhost",
        f"SlurmctldPort={ctld_port}",
        f"SlurmdPort={slurmd_port}",
        "SlurmUser=root",
        "SlurmdUser=root",
        "AuthType=auth/munge",
        f"AuthInfo=socket={munge_socket}",
        "CredType=cred/munge",
        f"StateSaveLocation={folder / 'state'}",
        f"SlurmdSpoolDir={folder / 'spool'}",
        f"SlurmctldPidFile={folder / 'slurmctld.pid'}",
        f"SlurmdPidFile={folder / 'slurmd.pid'}",
        f"SlurmctldLogFile={folder / 'log' / 'slurmctld.log'}",
        f"SlurmdLogFile={folder / 'log' / 'slurmd.log'}",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU",
        "SchedulerType=sched/backfill",
        "ReturnToService=2",
        "MpiDefault=none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/none",
        "SlurmctldTimeout=30",
        "SlurmdTimeout=30",
        "InactiveLimit=0",
        "MinJobAge=300",
        "KillWait=5",
        "Waittime=0",
        _node_line(),
        "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        "",
    ])


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie of ours counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _logs(folder: Path) -> str:
    out = []
    for log in sorted((folder / "log").glob("*.log")):
        out.append(f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:]))
    return "\n".join(out)


def _stop(folder: Path, env: dict) -> None:
    """Stop the daemons this fixture started, by the pids they wrote, never by name."""
    subprocess.run(["scontrol", "shutdown"], env=env, capture_output=True, timeout=30)
    slurm = [p for p in (_read_pid(folder / "slurmctld.pid"), _read_pid(folder / "slurmd.pid")) if p]
    munged = _read_pid(folder / "munge" / "munged.pid")
    if munged and _alive(munged):
        os.kill(munged, signal.SIGTERM)
    pids = slurm + ([munged] if munged else [])
    give_up = time.monotonic() + 15
    while any(_alive(p) for p in pids) and time.monotonic() < give_up:
        time.sleep(0.2)
    for pid in pids:
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _wait_idle(env: dict, folder: Path) -> None:
    give_up = time.monotonic() + START_TIMEOUT_S
    last = ""
    while time.monotonic() < give_up:
        done = subprocess.run(["sinfo", "-h", "-N", "-o", "%N %T"], env=env, capture_output=True, text=True,
                              timeout=30)
        last = (done.stdout + done.stderr).strip()
        if re.search(r"^localhost idle", done.stdout, re.MULTILINE):
            return
        time.sleep(0.5)
    raise TimeoutError(f"the node did not become idle within {START_TIMEOUT_S} s (sinfo: {last!r})\n{_logs(folder)}")


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """A running one-node Slurm cluster; ``SLURM_CONF`` points at it for the session."""
    if _missing():
        _install()
    folder = tmp_path_factory.mktemp("slurm")
    for sub in ("state", "spool", "log", "munge"):
        (folder / sub).mkdir()
    munge = folder / "munge"
    munge.chmod(0o700)
    key = munge / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    sock = munge / "munge.socket"
    conf = folder / "slurm.conf"
    conf.write_text(slurm_conf(folder, munge_socket=sock, ctld_port=_free_port(), slurmd_port=_free_port()))
    env = dict(os.environ, SLURM_CONF=str(conf))
    started = False
    try:
        subprocess.run([_sbin("munged"), "--force", f"--socket={sock}", f"--key-file={key}",
                        f"--pid-file={munge / 'munged.pid'}", f"--log-file={folder / 'log' / 'munged.log'}",
                        f"--seed-file={munge / 'munged.seed'}"], check=True, capture_output=True, timeout=30)
        started = True
        subprocess.run([_sbin("slurmctld"), "-f", str(conf), "-i"], env=env, check=True, capture_output=True,
                       timeout=60)
        subprocess.run([_sbin("slurmd"), "-f", str(conf), "-N", "localhost"], env=env, check=True,
                       capture_output=True, timeout=60)
        _wait_idle(env, folder)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, TimeoutError) as e:
        detail = getattr(e, "stderr", b"") or b""
        if started:
            _stop(folder, env)
        pytest.skip(f"Slurm is installed but a local cluster could not be started here: {e} "
                    f"{detail.decode(errors='replace') if isinstance(detail, bytes) else detail}\n{_logs(folder)}")
    previous = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(conf)
    try:
        yield SlurmCluster(conf, folder)
    finally:
        if previous is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = previous
        _stop(folder, env)
