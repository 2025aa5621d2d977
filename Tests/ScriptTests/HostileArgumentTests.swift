import Foundation
import Testing
@testable import Script
@testable import ScriptLibrary
import TensorGraph

/// Arguments that used to trap, abort or truncate (issue 20, F4–F12 and F21) are refused
/// where they enter, each with "line:col: message" pointing at the argument.
@Suite struct HostileArgumentTests {
    static let model = "m = transfusion(dim=16, layers=1, heads=2)\n"

    static let cases: [(String, String)] = [
        // Sizes: positive, at most a limit (one helper, Arguments.size).
        ("m = transfusion(dim=16, layers=0, heads=2)", "1:32: transfusion: 'layers' must be positive, got 0"),
        ("m = transfusion(dim=16, layers=9223372036854775807, heads=2)", "1:32: transfusion: 'layers' must be at most 1024, got 9223372036854775807"),
        (model + "r = train(m, shapes(size=16), steps=10**12)", "2:37: train: 'steps' must be at most 1000000000, got 1000000000000"),
        ("v = vae(width=2**40)", "1:15: vae: 'width' must be at most 4096, got 1099511627776"),
        ("m = transfusion(dim=65536, layers=1024, heads=2)", "1:21: transfusion: a model of 5.28e+13 parameters needs 192 TB, more than this machine's"),
        ("s = shapes(size=16).edits(n=0)", "1:29: shapes.edits: 'n' must be positive, got 0"),
        (model + "g = generate(m, 'a', tokens=70000)", "2:29: generate: 'tokens' must be at most 65536, got 70000"),
        (model + "g = generate(m, 'a', images=-1)", "2:29: generate: 'images' must be at least 0, got -1"),
        // Sampler settings (F5): finite and in range, in every generation builtin.
        (model + "g = generate(m, 'a', temperature=-1)", "2:34: generate: 'temperature' must be a number ≥ 0, got -1.0"),
        (model + "g = generate(m, 'a', temperature=nan)", "2:34: generate: 'temperature' must be a number ≥ 0, got nan"),
        (model + "g = generate(m, 'a', top_k=-1)", "2:28: generate: 'top_k' must be at least 0, got -1"),
        (model + "g = generate(m, 'a', temperature=1, top_p=0)", "2:43: generate: 'top_p' must be a probability in (0, 1], got 0.0"),
        (model + "g = generate(m, 'a', top_p=1.5)", "2:28: generate: 'top_p' must be a probability in (0, 1], got 1.5"),
        (model + "g = draw(m, 'a', cfg=-2)", "2:22: draw: 'cfg' must be a guidance scale ≥ 0, got -2.0"),
        (model + "g = draw(m, 'a', cfg=inf)", "2:22: draw: 'cfg' must be a guidance scale ≥ 0, got inf"),
        (model + "g = draw(m, 'a', eta=nan)", "2:22: draw: 'eta' must be a number ≥ 0, got nan"),
        (model + "g = caption(m, shapes(size=16).take(1), top_p=-1)", "2:47: caption: 'top_p' must be a probability in (0, 1], got -1.0"),
        (model + "c = caption(m, ones([0, 16, 16, 3]), tokens=2)", "2:16: caption: holds no images"),
        (model + "e = edit(m, [], 'make it blue', steps=1)", "2:13: edit: holds no images"),
        // Counts of ranges (F6–F8).
        ("x = arange(inf)", "1:12: arange: needs finite start, stop and step, got 0.0, inf, 1.0"),
        ("x = arange(0, 1, nan)", "1:15: arange: needs finite start, stop and step, got 0.0, 1.0, nan"),
        ("x = arange(0, 1e30, 1e-30)", "1:15: arange: 1e+60 values are too many (at most 100000000)"),
        ("x = range(9223372036854775807)", "1:11: range: 9.22e+18 values are too many (at most 10000000)"),
        ("x = enumerate([1, 2], start=9223372036854775807)", "1:29: enumerate: start 9223372036854775807 + 1 overflows a 64-bit int"),
        ("x = arange(4).reshape([2**32, 2**32, 0])", "1:5: reshape: cannot reshape a tensor of shape [4] (4 values) into [4294967296, 4294967296, 0]"),
        // Packing and layouts (F4, F11).
        ("p = pack([['a', 9223372036854775807]], length=64)", "1:10: pack: example 0: an image of 9223372036854775807 patches does not fit in a sequence of length 64"),
        ("l = layout('image:3037000500x3037000500')", "1:5: layout 'image:3037000500x3037000500': 'image:3037000500x3037000500': at most 65536 tokens per segment"),
        // Index-taking ops: the first bad index, at the call (PyTorch raises too).
        ("l = cross_entropy(tensor([[0.0, 1.0, 2.0], [1.0, 0.0, 0.0]]), tensor([1, 3]))\nprint(l)", "1:5: cross_entropy: target 3 at [1] is outside 0…2 (3 classes)"),
        ("l = cross_entropy(tensor([[0.0, 1.0, 2.0]]), tensor([1.5]))\nprint(l)", "1:5: cross_entropy: target 1.5 at [0] is not a whole number (3 classes)"),
        ("l = cross_entropy(tensor([[0.0, 1.0, 2.0]]), tensor([-100]), ignore_index=None)\nprint(l)", "1:5: cross_entropy: target -100 at [0] is outside 0…2 (3 classes)"),
        ("g = gather(tensor([[1.0], [2.0]]), tensor([0, 2]))\nprint(g)", "1:5: gather: index 2 at [1] is outside 0…1 (a table of 2 rows)"),
        ("h = one_hot(tensor([0, -1]), 2)\nprint(h)", "1:5: one_hot: index -1 at [1] is outside 0…1 (2 classes)"),
        // Sizes derived from inputs (F12): checked against the machine's memory.
        (model + "g = draw(m, ['a'] * 20000, tokens=60000, steps=1)", "2:5: a KV cache for 20000 rows of 60041 positions needs"),
        ("c = classifier(shapes(size=8), steps=1, batch=16777216)", "1:47: classifier: a batch of 16777216 images and their features needs 76 GB, more than this machine's"),
        (model + "r = train(m, shapes(size=16), steps=1, batch=1, eval_every=1, eval_batches=5000)", "2:76: train: 'eval_batches' must be at most 1024, got 5000"),
        ("x = ones([1000000, 1]) + ones([1, 1000000])", "1:5: a tensor of shape [1000000, 1000000] needs 3.6 TB, more than this machine's"),
    ]

    @Test(arguments: cases.indices)
    func refusedWhereTheArgumentEnters(_ i: Int) {
        let (source, expected) = Self.cases[i]
        let r = evalScript(source)
        #expect(r.hasPrefix("ERROR 70: " + expected), "\(r)")
    }

    /// Values nested a million deep (`x = [x]` in a loop) are freed without a recursion as deep,
    /// and printing one is an error at the print, not a stack overflow.
    @Test func deeplyNestedValuesAreFreedAndPrintedSafely() {
        let s = Session(registry: .tfs)
        #expect(evalScript("x = [1]\nd = {}\nt = [1]\nfor i in range(1000000):\n    x = [x]\n    d = {'a': d, 'b': [d]}\n    t = [(t, 1)]\nlen(x)", in: s) == "1")
        #expect(evalScript("print(x)", in: s) == "ERROR 70: 1:1: value nested too deeply to print (limit 200)")
        #expect(evalScript("x = 0\nd = 0\nt = 0\n'freed'", in: s) == "'freed'")
        #expect(evalScript("y = [1]\nfor i in range(150):\n    y = [y]\nlen(str(y))") == "\(2 * 151 + 1)")
        // A bare tuple chain held by a global, and closures each capturing the one before,
        // freed when the global is rebound, and with the call scope that held them.
        #expect(evalScript("x = 0\nfor i in range(1000000):\n    x = (x,)\nx = 1\n'freed'", in: s) == "'freed'")
        #expect(evalScript("def tuples(n):\n    x = 0\n    for i in range(n):\n        x = (x, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i, i)\n    return 1\ntuples(300000)", in: s) == "1")
        #expect(evalScript("f = lambda: 0\nfor i in range(300000):\n    f = (lambda g: lambda: g)(f)\nf()()()\n", in: s) == "<function <lambda>>")
        #expect(evalScript("f = 0\n'freed'", in: s) == "'freed'")
        #expect(evalScript("def chain(n):\n    h = lambda: 0\n    for i in range(n):\n        h = (lambda g: lambda: g)(h)\n    return 1\nchain(300000)", in: s) == "1")
    }

    /// A generation's prompts hold at most a megabyte of text (found by the script fuzzer: a
    /// 100 MB prompt needed 7 GB of tokens and caches before its first tensor was checked).
    @Test func promptsAreBounded() {
        let s = Session(registry: .tfs)
        _ = evalScript("m = transfusion(dim=16, layers=1, heads=2)", in: s)
        #expect(evalScript("len(generate(m, 'ab' * 600000, tokens=2, steps=2).text)", in: s) == "ERROR 70: 1:17: generate: 'prompt' holds 1200000 bytes of text; at most 1048576 in all")
        #expect(evalScript("len(generate(m, 'ab', tokens=2, steps=2).text) > 0", in: s) == "True")
    }

    /// Ranges that run the wrong way by more than Int holds are empty (found by the script
    /// fuzzer: converting their negative length to Int trapped).
    @Test func rangesRunningTheWrongWayFarAreEmpty() {
        #expect(evalScript("len(range(9223372036854775807, -92233720368547758-1))") == "0")
        #expect(evalScript("arange(0, 1e30, -30).shape") == "[0]")
        #expect(evalScript("len(range(-9223372036854775807, 9223372036854775807, -1))") == "0")
    }

    /// Empty tensors with long axes (found by the script fuzzer: printing one asked for a list
    /// of 2³² positions) print their shape, and tolist counts its lists before making them.
    @Test func emptyTensorsWithLongAxes() {
        let s = Session(registry: .tfs)
        #expect(evalScript("e = zeros([0]).reshape([4294967296, 0, 7])\nstr(e)", in: s) == "'tensor([], shape=[4294967296, 0, 7])'")
        #expect(evalScript("str(zeros([0])) + ' ' + str(zeros([3, 0]))", in: s) == "'tensor([]) tensor([], shape=[3, 0])'")
        #expect(evalScript("zeros([3, 0]).tolist()", in: s) == "[[], [], []]")
        #expect(evalScript("e.tolist()", in: s) == "ERROR 70: 1:1: tensor.tolist: a tensor of shape [4294967296, 0, 7] makes more than 16777216 nested lists")
    }

    /// Masks combined in a loop stop at 1,000 operators deep (printing, comparing and
    /// evaluating a mask recurse over it; simplifying costs its size at every operator).
    @Test func masksCombinedInALoopAreBounded() {
        let loop = { (n: Int) in "m = causal\nfor i in range(\(n)):\n    m = m | window(i + 1)\nlen(str(m))" }
        #expect(evalScript(loop(999)).hasPrefix("ERROR") == false)
        #expect(evalScript(loop(1000)) == "ERROR 70: 3:9: mask expression nested too deeply (limit 1000); combine fewer masks, or use document(ids)")
    }

    /// cross_entropy ignores -100 by default, as PyTorch does: rows [1, 2, 3] with targets 0
    /// and 2 and one ignored row give (log(e + e² + e³) − 1 + log(e + e² + e³) − 3) / 2.
    @Test func crossEntropyIgnoresMinus100ByDefaultLikePyTorch() {
        let lse = Foundation.log(Foundation.exp(1.0) + Foundation.exp(2.0) + Foundation.exp(3.0))
        let r = evalScript("float(cross_entropy(tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]), tensor([0, 2, -100])))")
        #expect(abs((Double(r) ?? 0) - ((lse - 1) + (lse - 3)) / 2) < 1e-5, "\(r)")
    }

    /// F21: every builtin and method that takes a path refuses a NUL byte (the system would
    /// cut the path there), before touching any file.
    static let pathCalls = [
        "save(P, {'w': ones([2])})", "load(P)", "load_model(P)", "load_vae(P)", "load_classifier(P)",
        "text(P)", "images(P)", "vae(width=4).save(P)", "shapes(size=16).take(1).save(P)",
        "train(transfusion(dim=16, layers=1, heads=2), shapes(size=16), steps=1, batch=1, checkpoint=P)",
        "train(transfusion(dim=16, layers=1, heads=2), shapes(size=16), steps=1, batch=1, resume=P)",
        "train_vae(vae(width=4), shapes(size=16), steps=1, batch=1, checkpoint=P)",
    ]

    @Test(arguments: pathCalls)
    func pathsWithANulByteAreRefused(_ call: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tfs-nul-\(UUID().uuidString)").path
        let r = evalScript("P = '\(dir)/a\\x00b'\n" + call)
        #expect(r.hasPrefix("ERROR 70: 2:") && r.contains("path contains a NUL byte (at byte \(dir.count + 3))"), "\(r)")
        #expect(!FileManager.default.fileExists(atPath: dir))
    }
}
