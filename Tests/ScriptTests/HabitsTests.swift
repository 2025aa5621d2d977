import Foundation
import Testing
@testable import Script
@testable import ScriptLibrary
import TensorGraph
import Visual

/// What people bring from Python, IPython and PyTorch: globals resolved when a function runs,
/// sizes as separate arguments, `dim=`, help on methods, output history, long values cut.
@Suite struct HabitsTests {
    @Test func aFunctionMayCallOneDefinedInALaterInput() {
        let s = Session(registry: .tfs)
        #expect(runScript("def f(n):\n    return g(n) + 1", in: s).failure == nil)
        // Not defined yet: an error when called, with the name and where it was used.
        #expect(evalScript("f(1)", in: s).hasPrefix("ERROR 70: 2:12: name 'g' is not defined"))
        #expect(runScript("def g(n):\n    return n * 10", in: s).failure == nil)
        #expect(evalScript("f(4)", in: s) == "41")
    }

    @Test func aRunningFileChecksFunctionBodiesAgainstEveryNameTheFileBinds() throws {
        // Cell 1 uses `g` (defined in cell 2) and `typo` (defined nowhere): only `typo` is an
        // error, and it is found before cell 1 runs.
        let source = "# %% one\ndef f(n):\n    return g(n) + typo\nprint('ran')\n# %% two\ndef g(n):\n    return n\n"
        let runs = try Session(registry: .tfs).runCells(source: source, file: "late.tfs")
        #expect(runs.count == 1 && runs[0].result.failure == .static_)
        let error = runs[0].result.outputs.compactMap { if case .error(let e) = $0 { e } else { nil } }.joined()
        #expect(error.contains("late.tfs:3:19: error: undefined name 'typo'"), "\(error)")
        #expect(!error.contains("'g'"), "\(error)")
        let fine = try Session(registry: .tfs).runCells(source: source.replacingOccurrences(of: " + typo", with: ""), file: "late.tfs")
        #expect(fine.map(\.result.failure) == [nil, nil])
    }

    @Test func sizesMayBeSeparateArgumentsAndTheSeedIsAKeyword() {
        #expect(evalScript("randn(2, 3).shape") == "[2, 3]")
        #expect(evalScript("randn([2, 3]).shape") == "[2, 3]")
        #expect(evalScript("zeros(2, 3, 4).shape") == "[2, 3, 4]")
        #expect(evalScript("ones(5).shape") == "[5]")
        #expect(evalScript("rand(2, 3, low=-1).shape") == "[2, 3]")
        #expect(evalScript("randn(2, 3, seed=7).tolist() == randn([2, 3], seed=7).tolist()") == "True")
        #expect(evalScript("randn([2], 3)").hasPrefix("ERROR 70: 1:7: randn: give the shape as one list or as separate ints"))
        #expect(evalScript("zeros(2, 'a')").hasPrefix("ERROR 70: 1:10: zeros: sizes must be ints, found 'str'"))
    }

    @Test func pytorchKeywordsMeanNumpysOnes() {
        #expect(evalScript("softmax(tensor([0, 0]), dim=0)") == "tensor([0.5000, 0.5000])")
        #expect(evalScript("ones([2, 3]).sum(dim=1, keepdim=True).shape") == "[2, 1]")
        // A function with its own `dim` parameter keeps it.
        #expect(evalScript("def f(dim=0, axis=1):\n    return [dim, axis]\nf(dim=5)") == "[5, 1]")
        #expect(evalScript("softmax(tensor([1]), dims=0)").hasPrefix("ERROR 65: 1:22: unknown keyword argument 'dims'"))
    }

    @Test func helpReachesMethodsThroughTheirTypeAndThroughValues() {
        #expect(printedText("help(tensor.sum)").hasPrefix("tensor.sum(axis=None, keepdims=False)"))
        #expect(printedText("help(str.upper)").hasPrefix("str.upper()"))
        let s = Session(registry: .tfs)
        _ = runScript("x = ones([2])\ndef double(v):\n    # twice\n    return v * 2\n\ny = 1", in: s)
        #expect(s.help("x.sum")?.hasPrefix("tensor.sum(") == true)
        #expect(s.help("tensor.mean")?.hasPrefix("tensor.mean(") == true)
        let source = s.helpWithSource("double") ?? ""
        #expect(source.hasSuffix("source:\ndef double(v):\n    # twice\n    return v * 2"), "\(source)")
        #expect(s.help("nothing_here") == nil)
    }

    @Test func suggestionsOnlyWhenClose() {
        let names = ["e", "edit", "inf", "exp", "softmax", "learning_rate"]
        #expect(closestName(to: "x", among: names) == nil)
        #expect(closestName(to: "In", among: names) == nil)
        #expect(closestName(to: "sofmax", among: names) == "softmax")
        #expect(closestName(to: "learnin_rat", among: names) == "learning_rate")
        #expect(closestName(to: "E", among: names) == "e")   // case alone is always worth a hint
    }

    @Test func theOutputHistoryKeepsNumberedValues() {
        let s = Session(registry: .tfs)
        for (n, source) in [(1, "10"), (2, "x = 1"), (3, "20"), (4, "30")] {
            s.outputNumber = n
            _ = runScript(source, in: s)
        }
        s.outputNumber = nil
        #expect(evalScript("[Out[1], _1, _3, _, __, ___]", in: s) == "[10, 10, 20, 30, 20, 10]")
        #expect(evalScript("Out[2]", in: s).hasPrefix("ERROR 70: 1:1: Out[2]: input 2 showed no value"))
        // The history stays out of the variable listing.
        #expect(s.globalsSummary().map(\.name) == ["x"])
    }

    @Test func aLongValueShowsItsFirstThousandItems() {
        let shown = evalScript("list(range(5000))")
        #expect(shown.hasPrefix("[0, 1, 2, ") && shown.hasSuffix(", 998, 999, ...]"), "\(shown.suffix(40))")
        let dict = evalScript("d = {}\nfor i in range(1500):\n    d[str(i)] = i\nd")
        #expect(dict.hasSuffix("'999': 999, ...}"), "\(dict.suffix(40))")
        // print and str still write everything, as Python's do.
        #expect(evalScript("len(str(list(range(5000))))") == "\(String(describing: Array(0..<5000)).count)")
    }

    @Test func dictKeysCompleteInsideAStringAndNothingElseDoes() {
        let s = Session(registry: .tfs)
        _ = runScript("cfg = {'learning_rate': 1, 'layers': 2, 'dim': 3}", in: s)
        #expect(s.completions(for: "cfg['l") == ["layers", "learning_rate"])
        #expect(s.completions(for: "cfg[\"learning r").isEmpty)
        #expect(s.completions(for: "print('so").isEmpty)
        #expect(s.completions(for: "print('a', so").contains("softmax"))
    }
}

@Suite struct DirTests {
    @Test func dirListsVariablesOrMembers() {
        let s = Session(registry: .tfs)
        s.outputNumber = 1
        _ = runScript("b = 1\na = 2\n3", in: s)
        #expect(evalScript("dir()", in: s) == "['a', 'b']")
        #expect(evalScript("'sum' in dir(ones([2])) and 'upper' in dir('x')", in: s) == "True")
    }
}

@Suite struct PyTorchNamesTests {
    @Test func tensorMethodsUnderPyTorchsNames() {
        #expect(evalScript("tensor([[1, 5], [7, 2]]).argmax(axis=1)") == "tensor([1., 0.])")
        #expect(evalScript("tensor([[1, 5], [7, 2]]).argmax()") == "tensor(2.)")
        #expect(evalScript("tensor([[1, 5], [7, 2]]).argmax(dim=0, keepdim=True).shape") == "[1, 2]")
        #expect(evalScript("tensor([-2, 0.5, 3]).clamp(min=0, max=1)") == "tensor([0.0000, 0.5000, 1.0000])")
        // Variance of 1..4: mean 2.5, squared deviations sum to 5; unbiased 5/3, population 5/4.
        #expect(evalScript("round(tensor([1, 2, 3, 4]).var().item(), 5)") == "1.66667")
        #expect(evalScript("round(tensor([1, 2, 3, 4]).var(correction=0).item(), 5)") == "1.25")
        #expect(evalScript("round(tensor([[1, 2], [3, 5]]).std(dim=1).tolist()[1], 5)") == "1.41421")
        #expect(evalScript("zeros([2, 3]).unsqueeze(-1).shape") == "[2, 3, 1]")
        #expect(evalScript("zeros([2, 3]).unsqueeze(1).shape") == "[2, 1, 3]")
        #expect(evalScript("arange(6).view(3, 2).shape") == "[3, 2]")
        #expect(evalScript("[zeros([2, 3]).size(), zeros([2, 3]).size(-1)]") == "[[2, 3], 3]")
        #expect(evalScript("zeros([2]).unsqueeze(3)").hasPrefix("ERROR 70: 1:22: tensor.unsqueeze: axis 3 is out of range"))
    }

    @Test func modelParametersAreNamedTensorsWithASummary() {
        let s = Session(registry: .tfs)
        _ = runScript("m = transfusion(dim=32, layers=1, heads=2)\np = m.parameters", in: s)
        let total = evalScript("p.count", in: s)
        #expect(Int(total) ?? 0 > 0)
        // The names and tensors are the model's, and the counts add up.
        #expect(evalScript("sum([p[n].size()[0] * (p[n].size()[1] if p[n].ndim > 1 else 1) for n in p.names if p[n].ndim <= 2]) <= p.count", in: s) == "True")
        #expect(evalScript("p['block0.attn.wq'].shape", in: s) == "[32, 32]")
        #expect(evalScript("[m.parameters > 0, m.parameters() is not None]", in: s) == "[True, True]")
        let summary = evalScript("print(p)", in: s) == "None" ? printedText("print(p)", in: s) : ""
        let lines = summary.split(separator: "\n")
        #expect(lines.first?.hasPrefix("layer") == true && lines.contains { $0.hasPrefix("block0 ") }, "\(summary)")
        #expect(lines.last.map { $0.hasPrefix("total") && $0.hasSuffix(" \(total)") } == true, "\(summary)")
        #expect(evalScript("p['nope']", in: s).hasPrefix("ERROR 70: 1:1: the model has no weight named 'nope'"))
    }

    @Test func plotReturnsWhatItShowedAndShowsOnce() {
        let s = Session(registry: .tfs)
        let r = runScript("p = plot([3, 2, 1], title='loss')", in: s)
        #expect(r.outputs.count == 1 && r.failure == nil)
        #expect(evalScript("p.title", in: s) == "'loss'")
        let last = runScript("plot([1, 2])", in: s)
        #expect(last.outputs.count == 1 && last.value == nil)
        #expect(runScript("p", in: s).outputs.count == 1)
    }
}

@Suite struct PicturesOfTensorsTests {
    /// The PNG of a cell's only output, decoded.
    func picture(_ source: String, in session: Session = Session(registry: .tfs)) throws -> (PNGImage, String?) {
        let r = runScript(source, in: session)
        guard r.failure == nil, r.outputs.count == 1, case .png(let data, let caption) = r.outputs[0] else {
            throw RuntimeError("expected one PNG, got \(r.outputs) \(r.failure.map { "\($0)" } ?? "")")
        }
        return (try PNGDecoder.decode(data), caption)
    }

    func pixel(_ image: PNGImage, _ x: Int, _ y: Int) -> [UInt8] {
        let i = (y * image.width + x) * image.channels
        return Array(image.samples[i..<(i + 3)])
    }

    @Test func aMatrixIsAHeatmapFromLowestToHighest() throws {
        let (image, caption) = try picture("h = heatmap(arange(12).reshape(3, 4), title='ramp')")
        // 4 × 3 values, 32 pixels each (the longer side near 256).
        #expect(image.width == 128 && image.height == 96)
        #expect(pixel(image, 0, 0) == [68, 1, 84])         // 0, the lowest: viridis' dark end
        #expect(pixel(image, 127, 95) == [253, 231, 37])   // 11, the highest: its yellow end
        #expect(pixel(image, 31, 31) == pixel(image, 0, 0) && pixel(image, 32, 0) != pixel(image, 0, 0))
        #expect(caption == "ramp · [3, 4], from 0 to 11")
    }

    @Test func anRGBTensorIsShownAsItIs() throws {
        let s = Session(registry: .tfs)
        let (image, _) = try picture("imshow(tensor([[[1, 0, 0], [0, 0, 1]]]))", in: s)
        #expect(image.width == 64 && image.height == 32)   // 2 × 1 pixels of 32 (at most 32 each)
        #expect(pixel(image, 0, 0) == [255, 0, 0] && pixel(image, 63, 31) == [0, 0, 255])
        // imshow of a matrix is its heatmap; the figure is a value that shows itself again.
        #expect(runScript("f = imshow(ones([2, 2]))", in: s).outputs.count == 1)
        #expect(evalScript("f.title", in: s) == "'[2, 2], from 1 to 1'")
        #expect(runScript("f", in: s).outputs.count == 1)
        #expect(evalScript("heatmap(zeros([0]))", in: s).hasPrefix("ERROR 70: 1:9: heatmap: the tensor is empty"))
    }
}

@Suite struct ModelGraphTests {
    @Test func graphOfAModelDrawsItsForwardPassWithNamedWeights() throws {
        let r = runScript("graph(transfusion(dim=16, layers=1, heads=2), length=4)")
        #expect(r.failure == nil, "\(r.outputs)")
        guard r.outputs.count == 1, case .svg(let svg, let caption) = r.outputs[0] else {
            Issue.record("expected one SVG, got \(r.outputs)"); return
        }
        #expect(caption == "the model's forward pass and losses (1 row of 4 positions)")
        for name in ["block0.attn.wq", "block0.mlp.gate", "embed.tokens", "log_softmax"] {
            #expect(svg.contains(name), "\(name) missing")
        }
    }
}
