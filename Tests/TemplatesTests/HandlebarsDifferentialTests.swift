import DocumentStore
import Foundation
import Templates
import TestSupport
import Testing

/// The result of rendering one case: the output, or the error's description.
enum RenderOutcome: Equatable, Sendable {
    case output(String)
    case failure(String)

    /// Compares outputs byte for byte, because Swift's `==` on strings treats canonically
    /// equivalent text ("é" and "e" with U+0301) as equal. Any two failures count as equal.
    func matches(_ other: RenderOutcome) -> Bool {
        switch (self, other) {
        case (.output(let mine), .output(let theirs)):
            return Array(mine.utf8) == Array(theirs.utf8)
        case (.failure, .failure):
            return true
        default:
            return false
        }
    }

    var testDescription: String {
        switch self {
        case .output(let text): text.debugDescription
        case .failure(let message): "error: " + message
        }
    }
}

/// Renders cases with handlebars.js 4.7.8 (`python/handlebars_render.py`), an implementation
/// independent of this project.
enum HandlebarsJS {
    /// Renders every case and returns the outcomes in order. The reference takes roughly 0.35 s
    /// of CPU time per generated case (measured on one 2-core x86-64 machine), so the cases are split
    /// over one Python process per core, up to four.
    static func renderAll(_ cases: [GeneratedTemplateCase]) async throws -> [RenderOutcome] {
        let processCount = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount, cases.count))
        let sliceLength = (cases.count + processCount - 1) / max(processCount, 1)
        let slices = stride(from: 0, to: cases.count, by: max(sliceLength, 1)).map { start in
            Array(cases[start..<min(start + sliceLength, cases.count)])
        }

        return try await withThrowingTaskGroup(of: (Int, [RenderOutcome]).self) { group in
            for (index, slice) in slices.enumerated() {
                group.addTask { (index, try await renderWithOneProcess(slice)) }
            }
            var results = [[RenderOutcome]](repeating: [], count: slices.count)
            for try await (index, outcomes) in group {
                results[index] = outcomes
            }
            return results.flatMap { $0 }
        }
    }

    private static func renderWithOneProcess(_ cases: [GeneratedTemplateCase]) async throws -> [RenderOutcome] {
        var input = ""
        for generated in cases {
            let request: JSONValue = .object([
                "template": .string(generated.template),
                "partials": .object(generated.partials.mapValues { .string($0) }),
                "data": generated.data,
            ])
            // Compact JSON escapes line breaks in strings, so each request is one line.
            input += request.serialized() + "\n"
        }

        let child = try ChildProcess(
            executable: try TestEnvironment.python(),
            arguments: [TestEnvironment.pythonScript("handlebars_render.py")],
            environment: ["PYTHONDONTWRITEBYTECODE": "1"])
        child.writeAndCloseInput(Data(input.utf8))
        let status = try await child.waitForExit(timeout: .seconds(900))
        guard status == 0 else {
            throw TestEnvironmentError(
                "handlebars_render.py failed with status \(status); if it cannot import handlebars, run make test to reinstall .venv: \(child.standardError)"
            )
        }

        // handlebars.js warns when it denies access to a property that is not the object's own.
        // js2py denies string indexes ("abc"[1]) that JavaScript allows, so a warning means a
        // generated case indexes a string, which the generator must avoid.
        if child.standardError.contains("Access has been denied") {
            Issue.record("handlebars.js denied a property access, so a generated case indexes a string: \(child.standardError)")
        }

        // Split on the byte 0x0A: Swift reads "\r\n" as one Character, so a Character split could miss a line.
        let lines = Array(child.standardOutput.utf8).split(separator: UInt8(ascii: "\n"))
        guard lines.count == cases.count else {
            throw TestEnvironmentError(
                "handlebars_render.py returned \(lines.count) results for \(cases.count) cases: \(child.standardError)")
        }
        return try lines.map { line in
            let record = try JSONValue(parsing: Array(line)).objectValue ?? [:]
            if let output = record["output"]?.stringValue {
                return .output(output)
            }
            if let error = record["error"]?.stringValue {
                return .failure(error)
            }
            throw TestEnvironmentError("handlebars_render.py returned an invalid record: \(String(decoding: line, as: UTF8.self))")
        }
    }
}

@Suite("handlebars.js differential")
struct HandlebarsDifferentialTests {
    /// The number of cases and the first seed. Case `i` uses seed `firstSeed + i`.
    /// `HANDLEBARS_DIFFERENTIAL_CASES` and `HANDLEBARS_DIFFERENTIAL_SEED` override them, such as
    /// to rerun one failing seed or to run thousands of cases.
    static let caseCount = environmentNumber("HANDLEBARS_DIFFERENTIAL_CASES") ?? 420
    static let firstSeed = environmentNumber("HANDLEBARS_DIFFERENTIAL_SEED") ?? 1

    /// The number of mismatches reported with their full case; the rest are only counted.
    static let detailedMismatchCount = 10

    @Test("Generated templates match handlebars.js")
    func generatedTemplatesMatch() async throws {
        let cases = (0..<Self.caseCount).map { index in
            var generator = TemplateGenerator(seed: UInt64(Self.firstSeed + index))
            return generator.makeCase()
        }
        let references = try await HandlebarsJS.renderAll(cases)

        var mismatchCount = 0
        var bothRendered = 0
        var invalidButRendered: [UInt64] = []
        for (index, (generated, reference)) in zip(cases, references).enumerated() {
            let outcome = renderWithEngine(generated)
            if case .output = outcome, case .output = reference {
                bothRendered += 1
            }
            if generated.constructs.contains(.invalidTemplate), case .output = reference {
                invalidButRendered.append(generated.seed)
            }
            guard !outcome.matches(reference) else { continue }

            mismatchCount += 1
            guard mismatchCount <= Self.detailedMismatchCount else { continue }
            Issue.record(
                """
                Case \(index) (seed \(generated.seed)) renders differently.
                template: \(generated.template.debugDescription)
                partials: \(describePartials(generated.partials))
                data: \(generated.data.serialized())
                handlebars.js: \(reference.testDescription)
                engine: \(outcome.testDescription)
                """)
        }
        if mismatchCount > Self.detailedMismatchCount {
            Issue.record("\(mismatchCount) of \(cases.count) cases differ from handlebars.js; the first \(Self.detailedMismatchCount) are shown above.")
        }

        // Most cases must render, or the comparison would pass on error messages alone.
        #expect(bothRendered * 10 > cases.count * 9, "only \(bothRendered) of \(cases.count) cases rendered in both engines")
        #expect(invalidButRendered.isEmpty, "handlebars.js rendered the cases made invalid with seeds \(invalidButRendered)")

        checkCoverage(of: cases)
    }

    /// Checks that the generated cases use every construct and data with HTML-special and
    /// non-ASCII characters, so that a change to the generator cannot silently drop one.
    private func checkCoverage(of cases: [GeneratedTemplateCase]) {
        // The default run has 420 cases. A shorter run with the environment override only needs
        // each construct once.
        let minimum = cases.count >= 400 ? 5 : 1
        for construct in TemplateConstruct.allCases {
            let count = cases.filter { $0.constructs.contains(construct) }.count
            let required = construct == .invalidTemplate || construct == .crlfLineBreaks ? 1 : minimum
            #expect(count >= required, "only \(count) of \(cases.count) cases use \(construct.rawValue)")
        }

        let serializedData = cases.map { $0.data.serialized() }
        for special in ["&", "<", ">", "\\\"", "'", "`", "="] {
            let count = serializedData.filter { $0.contains(special) }.count
            #expect(count >= minimum, "only \(count) of \(cases.count) cases have \(special) in their data")
        }
        let unicodeCount = serializedData.filter { text in text.unicodeScalars.contains { $0.value > 0x7F } }.count
        #expect(unicodeCount >= minimum, "only \(unicodeCount) of \(cases.count) cases have non-ASCII data")
    }
}

/// Renders a case with this project's engine, from the same JSON text that handlebars.js reads.
private func renderWithEngine(_ generated: GeneratedTemplateCase) -> RenderOutcome {
    do {
        let data = try JSONValue(parsing: generated.data.serialized())
        var partials: [String: Template] = [:]
        for (name, source) in generated.partials {
            partials[name] = try Template(name: name, source: source)
        }
        let template = try Template(name: "generated", source: generated.template)
        return .output(try template.render(data, partials: partials))
    } catch {
        return .failure(String(describing: error))
    }
}

private func describePartials(_ partials: [String: String]) -> String {
    guard !partials.isEmpty else { return "none" }
    return partials.keys.sorted().map { "\($0) = \(partials[$0]!.debugDescription)" }.joined(separator: ", ")
}

private func environmentNumber(_ name: String) -> Int? {
    ProcessInfo.processInfo.environment[name].flatMap { Int($0) }
}
