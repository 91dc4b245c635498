import Testing
@testable import LatheJinja

/// The render thread is joined before `render` returns, so nothing the render captured outlives it
/// (fuzzing found the template's AST reported leaked while an unjoined render thread still held it).
@Suite struct RenderThreadTests {
    final class Probe: @unchecked Sendable { var touched = false }

    @Test func everythingTheRenderThreadHeldIsReleasedOnReturn() throws {
        weak var released: Probe?
        for _ in 0..<20 {
            let probe = Probe()
            released = probe
            try Template.onRenderThread { probe.touched = true }
            #expect(probe.touched)
        }
        #expect(released == nil)
    }

    @Test func renderResultsArriveAfterTheJoin() throws {
        let template = try Template("{% for i in range(3) %}{{ i }}{% endfor %}")
        for _ in 0..<20 { #expect(try template.render([:]) == "012") }
    }
}
