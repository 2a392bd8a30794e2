#!/usr/bin/env python3
"""How a document-management system talks to its congvan node: a clerk's inbox over gRPC.

Lists the documents the clerk's agency received (ClerkService.Inbox) and, with --fetch,
downloads one of them (ClerkService.Fetch, a stream: the sealed header first, then the parts in
chunks), checking every part's size and SHA-256 against the sealed header before it keeps it.

It uses only Debian packages (python3-grpcio, python3-grpc-tools, python3-protobuf; Python 3.11's
tomllib) and the real API, proto/congvan/v1/*.proto: the Python stubs are generated at run time
into a temporary directory. It connects like the `congvan` CLI, with mutual TLS, from the clerk's
profile.toml (written by `congvan pki init` for every person of a topology):

    python3 examples/python/congvan_inbox.py --profile DIR/people/clerk-h49/profile.toml
    python3 examples/python/congvan_inbox.py --profile ... --fetch MSG|latest --out DIR

Exit status: 0 done; 1 the node refused or could not be reached, or sent something that does not
match its header; 2 usage (the profile, the proto directory).
"""

import argparse
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

try:
    import tomllib  # Python 3.11+
except ImportError:  # pragma: no cover - Debian 12 has 3.11
    sys.exit("congvan_inbox: needs Python 3.11 or later (tomllib)")

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_PROTO = HERE.parent.parent / "proto"


class Usage(Exception):
    """A problem with the command line or the files it names: exit 2."""


class Mismatch(Exception):
    """The node sent something that does not match the sealed header: exit 1."""


# ------------------------------------------------------------------ the stubs


def generate_stubs(proto_dir: pathlib.Path, out_dir: str, compiler_choice: str = "auto") -> None:
    """Writes congvan/v1/*_pb2.py and *_pb2_grpc.py into out_dir and puts it on sys.path.

    With Debian's python3-grpc-tools (1.14: its own protoc, whose generated code runs on
    Debian's python3-protobuf 3.21 and python3-grpcio 1.51); without it, with protoc
    (protobuf-compiler) and grpc_python_plugin (protobuf-compiler-grpc), also Debian's.
    """
    protos = sorted(str(p) for p in (proto_dir / "congvan" / "v1").glob("*.proto"))
    if not protos:
        raise Usage(f"no congvan/v1/*.proto under {proto_dir} (use --proto DIR)")
    compiler = None
    if compiler_choice in ("auto", "grpc_tools"):
        try:
            import grpc_tools.protoc  # noqa: F401

            compiler = [sys.executable, "-m", "grpc_tools.protoc"]
        except ImportError:
            if compiler_choice == "grpc_tools":
                raise Usage("python3-grpc-tools is not installed (apt-get install python3-grpc-tools)")
    if compiler is None:
        protoc, plugin = shutil.which("protoc"), shutil.which("grpc_python_plugin")
        if not protoc or not plugin:
            raise Usage("neither python3-grpc-tools nor protoc + grpc_python_plugin is installed "
                        "(apt-get install python3-grpc-tools)")
        compiler = [protoc, f"--plugin=protoc-gen-grpc_python={plugin}"]
    command = compiler + ["-I", str(proto_dir), f"--python_out={out_dir}",
                          f"--grpc_python_out={out_dir}"] + protos
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise Usage(f"generating the stubs failed: {' '.join(command)}\n{result.stderr}")
    sys.path.insert(0, out_dir)


# ------------------------------------------------------------------ the node


def read_profile(path: pathlib.Path) -> dict:
    """The person's profile.toml (daemon/README.md): paths in it are relative to its directory."""
    try:
        with open(path, "rb") as f:
            profile = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise Usage(f"cannot read the profile {path}: {e}")
    try:
        base = path.parent
        read = lambda name: (base / name).read_bytes()  # noqa: E731
        return {
            "login": profile["login"],
            "agency": profile["agency"],
            "node": profile["node"],
            "cert": read(profile["tls"]["cert"]),  # the person's TLS certificate and its chain
            "key": read(profile["tls"]["key"]),    # its key, unencrypted PEM
            "anchors": b"".join(read(a) for a in profile["trust"]["anchors"]),
        }
    except KeyError as e:
        raise Usage(f"the profile {path} has no {e}")
    except OSError as e:
        raise Usage(f"the profile {path} names a file that cannot be read: {e}")


def connect(profile: dict):
    """A mutual-TLS channel to the person's own node. The node's certificate is checked against
    the profile's trust anchors and the address (the dev PKI's node certificates name 127.0.0.1).
    The node, in turn, knows the clerk from the client certificate: no password, no token."""
    import grpc

    credentials = grpc.ssl_channel_credentials(
        root_certificates=profile["anchors"],
        private_key=profile["key"],
        certificate_chain=profile["cert"])
    return grpc.secure_channel(profile["node"], credentials)


def status_text(code: int) -> str:
    from congvan.v1 import message_pb2

    if code == 0:
        return "-"
    name = message_pb2.StatusCode.Name(code).removeprefix("STATUS_CODE_").lower().replace("_", " ")
    return f"{code:02d} {name}"


# ------------------------------------------------------------------ inbox


def rfc3339_key(time: str):
    """Orders the node's UTC times ("2026-12-01T08:36:08.855594794Z"), whatever their digits."""
    whole, _, fraction = time.rstrip("Z").partition(".")
    return whole, float("0." + fraction) if fraction else 0.0


def list_inbox(stub, profile: dict):
    from congvan.v1 import node_pb2

    entries = list(stub.Inbox(node_pb2.InboxRequest(), timeout=30).entries)
    print(f"Inbox of {profile['login']} at {profile['agency']} ({profile['node']}): "
          f"{len(entries)} document(s)")
    if entries:
        rows = [("MESSAGE ID", "FROM", "SENDER", "NUMBER", "NOTATION", "SUBJECT", "RECEIVED", "STATUS")]
        for e in entries:
            rows.append((e.message_id, e.from_agency, e.from_name, str(e.number), e.notation,
                         e.subject, e.received_at, status_text(e.status)))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    return entries


# ------------------------------------------------------------------ fetch


def safe_name(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise Mismatch(f"the header names a part {name!r}, which is no plain file name")
    return name


def fetch(stub, message_id: str, out: pathlib.Path) -> None:
    """Streams one document: FetchResponse.document first (the sealed header, the leaders'
    signatures, the path), then PartChunk after PartChunk, parts in header order."""
    from congvan.v1 import message_pb2, node_pb2

    stream = stub.Fetch(node_pb2.FetchRequest(message_id=message_id), timeout=300)
    first = next(stream, None)
    if first is None or first.WhichOneof("item") != "document":
        raise Mismatch("the stream did not start with the document")
    signed = first.document.document  # SignedMessage: the DocumentHeader bytes and the seal
    header = message_pb2.DocumentHeader.FromString(signed.body)  # parse the bytes as sealed
    if header.message_id != message_id:
        raise Mismatch(f"asked for {message_id}, got {header.message_id}")
    reg = header.registration
    print(f"Document {header.message_id}: số {reg.number}/{reg.year}, ký hiệu {reg.notation}, "
          f"from {header.from_name} ({header.from_agency})")
    print(f"  {header.document_type} of {header.document_date}: {header.subject}")
    for s in header.signers:
        print(f"  signed by {s.full_name} ({', '.join(x for x in (s.position, s.person_login) if x)})")
    if first.document.trace:
        print("  path: " + " -> ".join(t.agency for t in first.document.trace))

    out.mkdir(parents=True, exist_ok=True)
    (out / "header.pb").write_bytes(signed.body)
    (out / "seal.p7s").write_bytes(signed.seal_signature)
    for i, sig in enumerate(first.document.leader_signatures, start=1):
        (out / f"leader-{i}.p7s").write_bytes(sig)

    parts = list(header.parts)
    names = [safe_name(p.name) for p in parts]
    files, digests, sizes = {}, {}, {}
    last = 0
    try:
        for response in stream:
            if response.WhichOneof("item") != "chunk":
                raise Mismatch("a second document in the stream")
            chunk = response.chunk
            if chunk.part >= len(parts) or chunk.part < last:
                raise Mismatch(f"a chunk of part {chunk.part} out of order")
            last = chunk.part
            i = chunk.part
            if i not in files:
                files[i] = open(out / (names[i] + ".partial"), "wb")
                digests[i], sizes[i] = hashlib.sha256(), 0
            sizes[i] += len(chunk.data)
            if sizes[i] > parts[i].size:
                raise Mismatch(f"part {names[i]} is longer than the {parts[i].size} bytes the header says")
            digests[i].update(chunk.data)
            files[i].write(chunk.data)
        for i, part in enumerate(parts):
            if i not in files:  # a part of size 0 has no chunk
                files[i] = open(out / (names[i] + ".partial"), "wb")
                digests[i], sizes[i] = hashlib.sha256(), 0
            files[i].close()
            if sizes[i] != part.size or digests[i].digest() != part.sha256:
                raise Mismatch(f"part {names[i]}: {sizes[i]} bytes, SHA-256 {digests[i].hexdigest()}; "
                               f"the sealed header says {part.size} bytes, {part.sha256.hex()}")
            os.replace(out / (names[i] + ".partial"), out / names[i])
            print(f"  part {names[i]} ({part.media_type}, {part.size} bytes{', main' if part.main else ''}): "
                  f"SHA-256 {part.sha256.hex()[:16]}… as sealed -> {out / names[i]}")
    except BaseException:
        for i, f in files.items():
            f.close()
            try:
                os.remove(out / (names[i] + ".partial"))
            except FileNotFoundError:
                pass
        raise
    print(f"  also: {out / 'header.pb'} (the header as sealed), {out / 'seal.p7s'} (the sender's seal), "
          f"leader-N.p7s (the leaders' signatures). Check the seal with:")
    print(f"    openssl cms -verify -binary -inform DER -content {out / 'header.pb'} "
          f"-in {out / 'seal.p7s'} -CAfile ROOT.pem -out /dev/null")


# ------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=os.environ.get("CONGVAN_PROFILE"),
                        help="the clerk's profile.toml (default: $CONGVAN_PROFILE)")
    parser.add_argument("--fetch", metavar="MSG",
                        help="also download this document ('latest': the one received last)")
    parser.add_argument("--out", help="where --fetch writes (default: ./MSG)")
    parser.add_argument("--proto", default=str(DEFAULT_PROTO),
                        help="the directory that holds congvan/v1/*.proto (default: the repository's proto/)")
    parser.add_argument("--compiler", choices=("auto", "grpc_tools", "protoc"), default="auto",
                        help="how to generate the stubs: python3-grpc-tools, or protoc with "
                             "grpc_python_plugin (default: the first that is installed)")
    args = parser.parse_args()
    try:
        if not args.profile:
            raise Usage("no profile: pass --profile FILE or set CONGVAN_PROFILE")
        try:
            import grpc
            import google.protobuf  # noqa: F401
        except ImportError as e:
            raise Usage(f"{e.name} is missing for {sys.executable}: use Debian's python3 (/usr/bin/python3) "
                        "with apt-get install python3-grpcio python3-grpc-tools")
        profile = read_profile(pathlib.Path(args.profile))
        with tempfile.TemporaryDirectory(prefix="congvan-stubs-") as stubs:
            generate_stubs(pathlib.Path(args.proto), stubs, args.compiler)
            from congvan.v1 import node_pb2_grpc

            with connect(profile) as channel:
                stub = node_pb2_grpc.ClerkServiceStub(channel)
                try:
                    entries = list_inbox(stub, profile)
                    if args.fetch:
                        message_id = args.fetch
                        if message_id == "latest":
                            if not entries:
                                raise Mismatch("the inbox is empty: nothing to fetch")
                            message_id = max(entries, key=lambda e: rfc3339_key(e.received_at)).message_id
                        print()
                        fetch(stub, message_id, pathlib.Path(args.out or message_id))
                except grpc.RpcError as e:
                    print(f"congvan_inbox: the node at {profile['node']} answered "
                          f"{e.code().name}: {e.details()}", file=sys.stderr)
                    return 1
    except Usage as e:
        print(f"congvan_inbox: {e}", file=sys.stderr)
        return 2
    except Mismatch as e:
        print(f"congvan_inbox: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
