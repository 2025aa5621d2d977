"""Drives `tfs kernel` through jupyter_client, as JupyterLab or VS Code would.

Run by Tests/TFSTests/KernelTests.swift as `python kernel_checks.py CHECK` with TFS_BIN set to
the tfs binary; prints "ok" when every expectation of CHECK held, else raises (the test then
fails with the traceback). Nothing here waits a fixed time: every wait is for a message.
"""
import atexit
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

import zmq
from jupyter_client import KernelManager
from jupyter_client.session import Session

TFS = os.environ["TFS_BIN"]
TIMEOUT = 180


def scratch(prefix):
    """A fresh temporary folder, removed when the check ends."""
    folder = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, folder, True)
    return folder


def install_spec():
    """Installs the kernel spec into a fresh prefix and points Jupyter at it."""
    prefix = scratch(prefix="tfs-kernel-spec-")
    out = subprocess.run([TFS, "kernel", "install", "--prefix", prefix], check=True,
                         capture_output=True, text=True).stdout
    assert "installed the tfs kernel spec" in out, out
    spec = json.load(open(os.path.join(prefix, "share/jupyter/kernels/tfs/kernel.json")))
    assert spec["argv"][1:] == ["kernel", "-f", "{connection_file}"], spec
    assert spec["language"] == "tfs" and spec["interrupt_mode"] == "signal", spec
    os.environ["JUPYTER_PATH"] = os.path.join(prefix, "share/jupyter")
    return prefix


def start():
    install_spec()
    km = KernelManager(kernel_name="tfs")
    km.start_kernel(cwd=scratch(prefix="tfs-kernel-cwd-"))
    atexit.register(lambda: km.is_alive() and km.shutdown_kernel(now=True))   # a failed check leaves no kernel behind
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=TIMEOUT)
    return km, kc


def stop(km, kc):
    kc.stop_channels()
    km.shutdown_kernel(now=False)
    assert not km.is_alive()


def reply_to(kc, msg_id, channel="shell"):
    get = kc.get_shell_msg if channel == "shell" else kc.get_control_msg
    while True:
        msg = get(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def iopub_until_idle(kc, msg_id, stop_at=None):
    """The IOPub messages answering msg_id, up to its idle status (or the first for which
    stop_at(msg) is true)."""
    out = []
    while True:
        msg = kc.get_iopub_msg(timeout=TIMEOUT)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        out.append(msg)
        if stop_at and stop_at(msg):
            return out
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return out


def execute(kc, code, **kwargs):
    msg_id = kc.execute(code, **kwargs)
    reply = reply_to(kc, msg_id)
    return reply, iopub_until_idle(kc, msg_id)


def of_type(messages, kind):
    return [m for m in messages if m["msg_type"] == kind]


def stdout_text(messages):
    return "".join(m["content"]["text"] for m in of_type(messages, "stream") if m["content"]["name"] == "stdout")


def check_protocol():
    km, kc = start()
    msg_id = kc.kernel_info()
    info = reply_to(kc, msg_id)
    assert info["msg_type"] == "kernel_info_reply", info
    c = info["content"]
    assert c["status"] == "ok" and c["protocol_version"] == "5.3" and c["implementation"] == "tfs", c
    assert c["language_info"]["name"] == "tfs" and c["language_info"]["file_extension"] == ".tfs", c
    assert info["header"]["version"] == "5.3", info["header"]

    reply, io = execute(kc, 'print("hello")\n1 + 1')
    kinds = [m["msg_type"] for m in io]
    assert kinds[0] == "status" and io[0]["content"]["execution_state"] == "busy", kinds
    assert kinds[1] == "execute_input" and io[1]["content"]["execution_count"] == 1, io[1]
    assert kinds[-1] == "status" and io[-1]["content"]["execution_state"] == "idle", kinds
    assert stdout_text(io) == "hello\n", io
    (result,) = of_type(io, "execute_result")
    assert result["content"]["execution_count"] == 1 and result["content"]["data"]["text/plain"] == "2", result
    assert reply["content"]["status"] == "ok" and reply["content"]["execution_count"] == 1, reply

    # A static error: the located message, nothing run, the count still moves on.
    reply, io = execute(kc, "y = 3\nundefined_name + 1")
    c = reply["content"]
    assert c["status"] == "error" and c["ename"] == "ScriptError" and c["execution_count"] == 2, c
    assert "undefined_name" in c["evalue"], c
    assert any("In[2]:2:1" in line for line in c["traceback"]), c["traceback"]
    (err,) = of_type(io, "error")
    assert err["content"]["ename"] == "ScriptError", err
    # A runtime error keeps what ran before it.
    reply, io = execute(kc, 'z = 7\nprint("before")\n[1, 2][5]')
    c = reply["content"]
    assert c["status"] == "error" and c["ename"] == "RuntimeError" and "In[3]:3" in c["traceback"][0], c
    assert stdout_text(io) == "before\n", io
    reply, io = execute(kc, "z")
    assert of_type(io, "execute_result")[0]["content"]["data"]["text/plain"] == "7", io

    # Silent cells show nothing and do not count.
    reply, io = execute(kc, 'print("quiet")', silent=True)
    assert reply["content"]["status"] == "ok" and not of_type(io, "stream") and not of_type(io, "execute_input"), io
    reply, io = execute(kc, "1")
    assert reply["content"]["execution_count"] == 5, reply

    # comm_info and history are answered empty.
    msg = kc.session.msg("comm_info_request", {})
    kc.shell_channel.send(msg)
    c = reply_to(kc, msg["header"]["msg_id"])["content"]
    assert c == {"status": "ok", "comms": {}}, c
    msg_id = kc.history()
    assert reply_to(kc, msg_id)["content"]["history"] == []

    # The heartbeat echoes.
    ctx = zmq.Context.instance()
    hb = ctx.socket(zmq.REQ)
    hb.connect("tcp://%s:%d" % (km.ip, km.hb_port))
    hb.send(b"ping")
    assert hb.poll(TIMEOUT * 1000) and hb.recv() == b"ping"
    hb.close()

    # Bad input never ends the kernel: a cell with a syntax error, then a normal cell.
    reply, io = execute(kc, "def (:")
    assert reply["content"]["status"] == "error", reply
    reply, io = execute(kc, "2 * 21")
    assert of_type(io, "execute_result")[0]["content"]["data"]["text/plain"] == "42", io

    # Shutdown: the reply, then the process ends.
    msg = kc.session.msg("shutdown_request", {"restart": False})
    kc.control_channel.send(msg)
    c = reply_to(kc, msg["header"]["msg_id"], "control")["content"]
    assert c["status"] == "ok" and c["restart"] is False, c
    assert km.provisioner.process.wait(timeout=TIMEOUT) == 0
    kc.stop_channels()
    km.cleanup_resources()
    print("ok")


def check_bundles():
    km, kc = start()
    # An image: PNG, with text/plain.
    reply, io = execute(kc, "show(shapes(size=8).take(2))")
    (d,) = of_type(io, "display_data")
    data = d["content"]["data"]
    png = base64.b64decode(data["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n", png[:8]
    assert data["text/plain"].startswith("<image: "), data["text/plain"]
    # A graph: SVG without the XML prolog.
    reply, io = execute(kc, "x = randn([2, 3])\ngraph(x * 2)")
    (d,) = of_type(io, "display_data")
    assert d["content"]["data"]["image/svg+xml"].startswith("<svg"), d
    assert "text/plain" in d["content"]["data"], d
    # A mask picture: SVG.
    reply, io = execute(kc, 'show(causal.on(layout("text:3 image:2x2")))')
    (d,) = of_type(io, "display_data")
    assert "<svg" in d["content"]["data"]["image/svg+xml"], d
    # A plot: PNG.
    reply, io = execute(kc, 'plot([3, 2, 1.5, 1.2], title="loss")')
    pictures = of_type(io, "display_data")
    assert pictures and all("text/plain" in p["content"]["data"] for p in pictures), io
    assert any("image/png" in p["content"]["data"] or "image/svg+xml" in p["content"]["data"] for p in pictures), io
    # A dict value: an execute_result with an HTML and a Markdown table and its text.
    reply, io = execute(kc, '{"lr": 0.001, "steps": 30}')
    (r,) = of_type(io, "execute_result")
    data = r["content"]["data"]
    assert data["text/plain"] == "{'lr': 0.001, 'steps': 30}", data
    assert "<td>lr</td>" in data["text/html"] and "<td>0.001</td>" in data["text/html"], data
    assert "| lr | 0.001 |" in data["text/markdown"], data
    # Plain values: text only.
    reply, io = execute(kc, "[1, 2, 3]")
    (r,) = of_type(io, "execute_result")
    assert r["content"]["data"] == {"text/plain": "[1, 2, 3]"}, r
    stop(km, kc)
    print("ok")


def request(kc, kind, content):
    msg = kc.session.msg(kind, content)
    kc.shell_channel.send(msg)
    return reply_to(kc, msg["header"]["msg_id"])["content"]


def check_introspection():
    km, kc = start()
    execute(kc, "tensor_value = randn([2, 3])")
    c = request(kc, "complete_request", {"code": "softm", "cursor_pos": 5})
    assert c["status"] == "ok" and "softmax" in c["matches"] and c["cursor_start"] == 0 and c["cursor_end"] == 5, c
    code = "y = tensor_value.sh"
    c = request(kc, "complete_request", {"code": code, "cursor_pos": len(code)})
    assert "tensor_value.shape" in c["matches"] and c["cursor_start"] == 4, c
    code = "softmax(tensor_value, ax"
    c = request(kc, "complete_request", {"code": code, "cursor_pos": len(code)})
    assert "axis=" in c["matches"] and c["cursor_start"] == len(code) - 2, c
    # Inspection: a builtin's help, on the name or inside its call.
    c = request(kc, "inspect_request", {"code": "softmax", "cursor_pos": 3, "detail_level": 0})
    assert c["found"] is True and "softmax" in c["data"]["text/plain"], c
    c = request(kc, "inspect_request", {"code": "softmax(tensor_value, ", "cursor_pos": 22, "detail_level": 0})
    assert c["found"] is True and "softmax" in c["data"]["text/plain"], c
    c = request(kc, "inspect_request", {"code": "no_such_name_here", "cursor_pos": 4, "detail_level": 0})
    assert c["found"] is False and c["data"] == {}, c
    # Completeness, as the REPL reads multi-line blocks.
    cases = [("x = 1", "complete", None), ("for i in range(3):", "incomplete", "    "),
             ("x = (1,", "incomplete", ""), ("def f(a):\n    if a:", "incomplete", "        "),
             ("for i in range(3):\n    print(i)\n", "complete", None), ('s = """abc', "incomplete", "")]
    for code, status, indent in cases:
        c = request(kc, "is_complete_request", {"code": code})
        assert c["status"] == status, (code, c)
        if indent is not None:
            assert c["indent"] == indent, (code, c)
    stop(km, kc)
    print("ok")


TRAIN = """m = transfusion(dim=16, layers=1, heads=2)
run = train(m, shapes(size=16), steps=1000000, batch=2, lr=1e-3, every=1, checkpoint="%s")"""


def interrupt_training(km, kc, checkpoint, by_message):
    msg_id = kc.execute(TRAIN % checkpoint)
    # Wait until training runs: its progress display appears, then is updated in place.
    io = iopub_until_idle(kc, msg_id, stop_at=lambda m: m["msg_type"] == "update_display_data")
    assert of_type(io, "display_data"), io
    first = of_type(io, "display_data")[0]
    display_id = first["content"]["transient"]["display_id"]
    assert first["content"]["data"]["text/plain"].startswith("step "), first
    update = io[-1]
    assert update["content"]["transient"]["display_id"] == display_id, update
    if by_message:
        msg = kc.session.msg("interrupt_request", {})
        kc.control_channel.send(msg)
        assert reply_to(kc, msg["header"]["msg_id"], "control")["content"]["status"] == "ok"
    else:
        km.interrupt_kernel()   # SIGINT (the spec's interrupt_mode is "signal")
    # train stops at a step boundary and returns the run, stopped early, its checkpoint saved.
    reply = reply_to(kc, msg_id)
    assert reply["content"]["status"] == "ok", reply["content"]
    iopub_until_idle(kc, msg_id)
    assert os.path.getsize(checkpoint) > 0, checkpoint
    reply, io = execute(kc, "print(run.stopped_early, run.steps > 0, run.steps < 1000000)")
    assert stdout_text(io) == "True True True\n", io


def check_interrupt():
    km, kc = start()
    folder = scratch(prefix="tfs-kernel-train-")
    interrupt_training(km, kc, os.path.join(folder, "signal.safetensors"), by_message=False)
    reply, io = execute(kc, "print('alive')")
    assert stdout_text(io) == "alive\n", io
    interrupt_training(km, kc, os.path.join(folder, "message.safetensors"), by_message=True)
    reply, io = execute(kc, "6 * 7")
    assert of_type(io, "execute_result")[0]["content"]["data"]["text/plain"] == "42", io
    # An interrupt while idle changes nothing.
    km.interrupt_kernel()
    reply, io = execute(kc, "1 + 2")
    assert of_type(io, "execute_result")[0]["content"]["data"]["text/plain"] == "3", io
    stop(km, kc)
    print("ok")


def check_abort():
    """After a failing cell, the cells queued behind it are aborted, not run (stop_on_error)."""
    km, kc = start()
    folder = scratch(prefix="tfs-kernel-abort-")
    running = kc.execute(TRAIN % os.path.join(folder, "x.safetensors"))
    iopub_until_idle(kc, running, stop_at=lambda m: m["msg_type"] == "update_display_data")
    # Queued while the training cell runs: a failing cell, then one that would print.
    failing = kc.execute("[1, 2][5]")
    queued = kc.execute("print('queued ran')")
    msg = kc.session.msg("interrupt_request", {})
    kc.control_channel.send(msg)
    assert reply_to(kc, msg["header"]["msg_id"], "control")["content"]["status"] == "ok"
    assert reply_to(kc, running)["content"]["status"] == "ok"
    c = reply_to(kc, failing)["content"]
    assert c["status"] == "error" and c["ename"] == "RuntimeError", c
    c = reply_to(kc, queued)["content"]
    assert c["status"] == "aborted", c
    io = iopub_until_idle(kc, queued)
    assert not of_type(io, "stream") and not of_type(io, "execute_input"), io
    # Cells sent after the abort run.
    reply, io = execute(kc, "print('later ran')")
    assert stdout_text(io) == "later ran\n", io
    stop(km, kc)
    print("ok")


def check_restart():
    km, kc = start()
    execute(kc, "kept = 5")
    pid = km.provisioner.process.pid
    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=TIMEOUT)
    assert km.provisioner.process.pid != pid
    reply, io = execute(kc, "kept")
    assert reply["content"]["status"] == "error" and "kept" in reply["content"]["evalue"], reply
    reply, io = execute(kc, "print('fresh')")
    assert stdout_text(io) == "fresh\n" and reply["content"]["execution_count"] == 2, (io, reply)
    stop(km, kc)
    print("ok")


def check_signature():
    km, kc = start()
    forged = Session(key=b"not-the-key", signature_scheme="hmac-sha256")
    bad = forged.msg("execute_request", {"code": "leaked = 1", "silent": False, "store_history": True,
                                         "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
    forged.send(kc.shell_channel.socket, bad)   # signed with the wrong key
    # Requests are answered in order: the next reply answers the good request, not the forged one.
    reply, io = execute(kc, "leaked")
    assert reply["parent_header"]["msg_id"] != bad["header"]["msg_id"]
    c = reply["content"]
    assert c["status"] == "error" and "leaked" in c["evalue"] and c["execution_count"] == 1, c
    unsigned = Session(key=b"", signature_scheme="hmac-sha256")
    unsigned.send(kc.shell_channel.socket, unsigned.msg("kernel_info_request", {}))   # no signature at all
    msg_id = kc.kernel_info()
    assert reply_to(kc, msg_id)["msg_type"] == "kernel_info_reply"
    # Correctly signed but malformed: content that is not JSON, too few frames. Dropped; the
    # kernel stays up.
    header = json.dumps(kc.session.msg_header("execute_request"), default=str).encode()
    parts = [header, b"{}", b"{}", b"{not json"]
    kc.shell_channel.socket.send_multipart([b"<IDS|MSG>", kc.session.sign(parts)] + parts)
    kc.shell_channel.socket.send_multipart([b"<IDS|MSG>", b"", b"{}"])
    reply, io = execute(kc, "print('still here')")
    assert stdout_text(io) == "still here\n" and reply["content"]["execution_count"] == 2, (io, reply)
    stop(km, kc)
    print("ok")


def check_examples():
    """Each example script's text through the kernel is what `tfs run` prints."""
    km, kc = start()
    for name in sys.argv[2:]:
        path = os.path.abspath(name)
        out = scratch(prefix="tfs-kernel-run-")
        run = subprocess.run([TFS, "run", path, "--out", out], capture_output=True, text=True,
                             env=dict(os.environ, NO_COLOR="1"))
        assert run.returncode == 0, run.stderr
        expected = [line for line in run.stdout.splitlines()
                    if not line.startswith("── [") and not line.startswith("[PNG") and not line.startswith("[SVG")
                    and line != ""]
        source = open(path).read()
        cells = []
        for chunk in source.split("\n# %%"):
            body = chunk.split("\n", 1)[1] if chunk.startswith(" ") else chunk
            cells.append(body)
        got = []
        execute(kc, "reset_marker = 0")
        for cell in cells:
            if not cell.strip() or all(l.startswith("#") or not l.strip() for l in cell.splitlines()):
                continue
            reply, io = execute(kc, cell)
            assert reply["content"]["status"] == "ok", (name, cell, reply["content"])
            for m in io:
                if m["msg_type"] == "stream" and m["content"]["name"] == "stdout":
                    got += m["content"]["text"].splitlines()
                if m["msg_type"] == "execute_result":
                    got += m["content"]["data"]["text/plain"].splitlines()
        got = [line for line in got if line != ""]
        assert got == expected, (name, got, expected)
    stop(km, kc)
    print("ok")


def check_nbconvert():
    import nbformat
    # `tfs kernel install --user` writes where `jupyter kernelspec list` looks.
    data = scratch(prefix="tfs-kernel-user-")
    env = dict(os.environ, JUPYTER_DATA_DIR=data)
    out = subprocess.run([TFS, "kernel", "install", "--user"], env=env, check=True, capture_output=True, text=True).stdout
    assert os.path.join(data, "kernels/tfs") in out, out
    jupyter = os.path.join(os.path.dirname(sys.executable), "jupyter")
    listed = json.loads(subprocess.run([jupyter, "kernelspec", "list", "--json"], env=env, check=True,
                                       capture_output=True, text=True).stdout)
    spec = listed["kernelspecs"]["tfs"]
    assert spec["resource_dir"] == os.path.join(data, "kernels/tfs"), spec
    assert os.path.isabs(spec["spec"]["argv"][0]) and os.access(spec["spec"]["argv"][0], os.X_OK), spec
    install_spec()
    folder = scratch(prefix="tfs-nbconvert-")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "tfs", "display_name": "tfs", "language": "tfs"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# tfs in Jupyter"),
        nbformat.v4.new_code_cell('x = randn([2, 3])\nprint("shape", x.shape)'),
        nbformat.v4.new_code_cell("show(shapes(size=8).take(2))"),
        nbformat.v4.new_code_cell("graph(x * 2)"),
        nbformat.v4.new_code_cell('{"a": 1}'),
        nbformat.v4.new_code_cell("x.shape"),
    ]
    source = os.path.join(folder, "cells.ipynb")
    nbformat.write(nb, source)
    run = subprocess.run([jupyter, "nbconvert", "--to", "notebook", "--execute", source, "--output", "done.ipynb"],
                         capture_output=True, text=True, cwd=folder)
    assert run.returncode == 0, run.stderr
    done = nbformat.read(os.path.join(folder, "done.ipynb"), as_version=4)
    nbformat.validate(done)
    outputs = [c.outputs for c in done.cells if c.cell_type == "code"]
    assert outputs[0][0]["text"] == "shape [2, 3]\n", outputs[0]
    assert "image/png" in outputs[1][0]["data"], outputs[1]
    assert outputs[2][0]["data"]["image/svg+xml"].startswith("<svg"), outputs[2]
    assert "text/html" in outputs[3][0]["data"] and outputs[3][0]["output_type"] == "execute_result", outputs[3]
    assert outputs[4][0]["data"]["text/plain"] == "[2, 3]" and outputs[4][0]["execution_count"] == 5, outputs[4]
    print("ok")


if __name__ == "__main__":
    globals()["check_" + sys.argv[1]]()
