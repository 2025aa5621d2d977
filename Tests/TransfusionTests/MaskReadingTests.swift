import Foundation
import Testing
import TensorGraph
@testable import Transfusion

/// Reading a mask from untrusted text or JSON (a checkpoint's metadata): what is refused, and
/// how the error names it. (Round trips and the plain-JSON reading are in MaskAsDataTests.)
@Suite struct MaskReadingTests {
    func refusal(_ body: () throws -> Mask) -> String {
        do { return "read \(try body())" } catch let e as TensorGraphError { return e.message } catch { return "\(error)" }
    }

    @Test func textThatIsNotMaskAlgebraIsRefusedWithItsColumn() {
        #expect(refusal { try Mask(parsing: "causal | save('x', {})") } == "mask 'causal | save('x', {})', column 14: 'save' is not a mask (masks: bidirectional, causal, image_to_image, image_to_text, nothing, same_document, same_image, text_to_image, text_to_text, prefix(n), window(n), document([ids]))")
        #expect(refusal { try Mask(parsing: "causal |") } == "mask 'causal |', column 9: expected a mask, found the end")
        #expect(refusal { try Mask(parsing: "causal same_image") } == "mask 'causal same_image', column 8: expected | or & or the end, found 'same_image'")
        #expect(refusal { try Mask(parsing: "(causal") } == "mask '(causal', column 8: expected ')', found the end")
        #expect(refusal { try Mask(parsing: "window(0)") } == "mask 'window(0)', column 9: window's n must be from 1 to 16777216, got 0")
        #expect(refusal { try Mask(parsing: "prefix(99999999999999999999)") }.hasSuffix("expected an integer, found '999999999999'"))
        #expect(refusal { try Mask(parsing: "") } == "mask '', column 1: expected a mask, found the end")
    }

    @Test func tooDeepMasksAreRefusedInTextAndJSON() {
        let limit = "nested too deeply (limit \(Mask.maxDepth))"
        let chain = Array(repeating: "causal", count: 30_000).joined(separator: " | ")
        #expect(refusal { try Mask(parsing: chain) }.hasSuffix("mask " + limit))
        #expect(refusal { try Mask(parsing: String(repeating: "(", count: 5000) + "causal" + String(repeating: ")", count: 5000)) }.hasSuffix("mask " + limit))
        #expect(refusal { try Mask(parsing: String(repeating: "~", count: 5000) + "causal") }.hasSuffix("mask " + limit))
        // 100 levels read; 101 do not.
        #expect(refusal { try Mask(parsing: Array(repeating: "window(1)", count: 100).joined(separator: " & ")) }.hasPrefix("read "))
        #expect(refusal { try Mask(parsing: Array(repeating: "window(1)", count: 101).joined(separator: " & ")) }.hasSuffix("mask " + limit))
        func nots(_ n: Int) -> String { String(repeating: #"{"not": "#, count: n) + #"{"causal": {}}"# + String(repeating: "}", count: n) }
        #expect(refusal { try Mask(json: nots(99)) }.hasPrefix("read "))
        #expect(refusal { try Mask(json: nots(100)) } == "mask JSON " + limit)
        #expect(refusal { try Mask(json: nots(5000)) }.hasPrefix("mask JSON is not JSON: "))   // past JSONSerialization's own limit
        let wide = #"{"or": ["# + Array(repeating: #"{"causal": {}}"#, count: 101).joined(separator: ",") + "]}"
        #expect(refusal { try Mask(json: wide) } == "mask JSON " + limit)
        let widest = #"{"or": ["# + Array(repeating: #"{"causal": {}}"#, count: 100).joined(separator: ",") + "]}"
        #expect(refusal { try Mask(json: widest) }.hasPrefix("read "))
    }

    @Test func malformedJSONIsRefusedNamingThePart() {
        #expect(refusal { try Mask(json: "{") }.hasPrefix("mask JSON is not JSON: "))
        #expect(refusal { try Mask(json: #"{"causal": {}, "same_image": {}}"#) }.hasPrefix("mask JSON: each mask must be an object with one key (its kind), got "))
        #expect(refusal { try Mask(json: #"{"cause": {}}"#) }.hasPrefix(#"mask JSON: unknown kind "cause""#))
        #expect(refusal { try Mask(json: #"{"causal": {"n": 1}}"#) } == #"mask JSON: "causal" takes an object with no fields, got {"n":1}"#)
        #expect(refusal { try Mask(json: #"{"window": {"n": 0}}"#) } == #"mask JSON: "window"'s n must be an integer from 1 to 16777216, got 0"#)
        #expect(refusal { try Mask(json: #"{"window": {"n": 2.5}}"#) } == #"mask JSON: "window"'s n must be an integer from 1 to 16777216, got 2.5"#)
        #expect(refusal { try Mask(json: #"{"prefix": {}}"#) } == #"mask JSON: "prefix" takes an object with exactly "n", got {}"#)
        #expect(refusal { try Mask(json: #"{"document": {"ids": [0, "a"]}}"#) } == #"mask JSON: "document"'s ids must be a list of integers"#)
        #expect(refusal { try Mask(json: #"{"modality": {"query": "audio", "key": "text"}}"#) } == #"mask JSON: "modality"'s query must be "text" or "image", got "audio""#)
        #expect(refusal { try Mask(json: #"{"and": [{"causal": {}}]}"#) } == #"mask JSON: "and" takes a list of at least two masks, got [{"causal":{}}]"#)
        #expect(refusal { try Mask(json: #"{"not": [{"causal": {}}]}"#) }.hasPrefix("mask JSON: each mask must be an object with one key (its kind), got [{"))
    }

    /// Checkpoints written before masks were JSON hold the mask's text; both read back.
    @Test func aSavedMaskIsJSONOrOlderText() throws {
        #expect(try Mask(saved: #"{"or":[{"causal":{}},{"same_image":{}}]}"#) == .transfusion)
        #expect(try Mask(saved: " \n{\"causal\": {}}") == .causal)
        #expect(try Mask(saved: "causal | same_image") == .transfusion)
        #expect(try Mask(saved: "causal | window(3) & ~same_image") == .causal | (.window(3) & ~.sameImage))
    }
}
