import AuditStore
import Foundation
@testable import PostgresStore
import Testing

/// The reader of `row_to_json` output the batched finishes are chained from.
@Suite struct FlatJSONTests {
    @Test func readsIntegersTextsAndNullsAsPostgreSQLWritesThem() {
        let text = #"{"id":12,"job_id":-3,"message":"a \"quoted\" \\ line\nnext\t\u0001 é 😀 \ud83d\ude00","wait_ms":null}"#
        let object = FlatJSON.object(text)
        #expect(object?["id"] == .integer(12))
        #expect(object?["job_id"] == .integer(-3))
        #expect(object?["message"] == .text("a \"quoted\" \\ line\nnext\t\u{1} é 😀 😀"))
        #expect(object?["wait_ms"] == .null)
        #expect(FlatJSON.object("{}")?.isEmpty == true)
    }

    @Test func refusesWhatIsNotAFlatObjectOfIntegersAndTexts() {
        for text in [#"{"a":1.5}"#, #"{"a":[1]}"#, #"{"a":"unterminated}"#, #"{"a":1"#, #"["a"]"#, #"{"a":true}"#,
                     #"{"a":"\ud83d"}"#, #"{"a":1e3}"#] {
            #expect(FlatJSON.object(text) == nil, "\(text)")
        }
    }

    @Test func agreesWithFoundationOnEveryCharacterPostgreSQLEscapes() throws {
        let message = String((0..<128).compactMap { Unicode.Scalar($0).map(Character.init) }) + "ü€𝄞"
        let json = try JSONSerialization.data(withJSONObject: ["message": message, "n": 9_007_199_254_740_993 as Int64])
        let object = FlatJSON.object(String(decoding: json, as: UTF8.self))
        #expect(object?["message"] == .text(message))
        #expect(object?["n"] == .integer(9_007_199_254_740_993))
    }
}
