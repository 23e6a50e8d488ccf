#!/usr/bin/env python3
"""Import benchmark (issue 4): builds a SCORM 1.2 package of N files totalling about S MB (half
incompressible media-like files, half compressible HTML/JS), then times `cairn import` on it and reports
its wall time and peak memory (max RSS, from /usr/bin/time or the rusage of the child).

    scripts/bench-import.py [--files 2000] [--mb 200] [--cairn target/release/cairn] [--runs 3]

The package is deterministic (seeded); it and the scratch database live in a temporary folder that is
removed afterwards.
"""
import argparse, os, random, resource, statistics, subprocess, sys, tempfile, time, zipfile

def build(path, files, total_mb, seed=7):
    rng = random.Random(seed)
    per = total_mb * 1024 * 1024 // files
    names = []
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for i in range(files):
            if i % 2 == 0:
                name = f"media/asset{i:05}.bin"
                data = rng.randbytes(per)
                z.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_STORED)
            else:
                name = f"pages/page{i:05}.html"
                line = f"<p>Lesson {i}: " + "lorem ipsum dolor sit amet " * 4 + "</p>\n"
                data = (line * (per // len(line) + 1))[:per].encode()
                z.writestr(name, data)
            names.append(name)
        files_xml = "\n".join(f'      <file href="{n}"/>' for n in names)
        manifest = f"""<?xml version="1.0"?>
<manifest identifier="bench" version="1" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>Bench</title>
    <item identifier="i1" identifierref="r1"><title>Lesson</title></item></organization></organizations>
  <resources><resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="pages/page00001.html">
{files_xml}
  </resource></resources>
</manifest>"""
        z.writestr("imsmanifest.xml", manifest)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--cairn", default="target/release/cairn")
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        pkg = os.path.join(d, "bench.zip")
        t0 = time.time()
        build(pkg, a.files, a.mb)
        print(f"package: {a.files} files, {os.path.getsize(pkg) / 1e6:.1f} MB zipped (built in {time.time() - t0:.1f}s)")
        times, rss = [], []
        for run in range(a.runs):
            db = os.path.join(d, f"run{run}.db")
            t = time.time()
            p = subprocess.run([a.cairn, "--database", f"sqlite://{db}", "import", pkg, "--json"], capture_output=True)
            elapsed = time.time() - t
            if p.returncode != 0:
                sys.exit(f"import failed: {p.stderr.decode()}")
            peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # max over children so far
            times.append(elapsed)
            rss.append(peak_kb / 1024)
            print(f"run {run + 1}: {elapsed:.2f}s, peak RSS so far {peak_kb / 1024:.1f} MiB")
        print(f"median import time {statistics.median(times):.2f}s over {a.runs} runs; peak RSS {max(rss):.1f} MiB")

if __name__ == "__main__":
    main()
