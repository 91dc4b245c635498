/// jinja2's symbol tracking for the template's root frame (jinja2/idtracking.py), reduced to the one effect that
/// changes output: a name whose first root-level reference is an unconditional `{% set %}` becomes a root local that
/// starts undefined, so loops and macros that read it before the `set` runs see undefined, not the context value.
///
/// Example: `{% macro m() %}{{ x }}{% endmacro %}{{ m() }}{% set x = 1 %}` renders "" even when `x` is passed in.
enum RootSymbols {
    /// The names to hide from the context at the start of a render.
    static func shadowed(_ nodes: [Node]) -> Set<String> {
        var walker = Walker()
        walker.walk(nodes, unconditional: true)
        return walker.shadowed
    }

    private struct Walker {
        var referenced = Set<String>()
        var shadowed = Set<String>()

        mutating func load(_ e: Expr) {
            switch e {
            case .literal: break
            case .name(let n, _): referenced.insert(n)
            case .list(let items, _), .tuple(let items, _): items.forEach { load($0) }
            case .dict(let pairs, _): pairs.forEach { load($0.0); load($0.1) }
            case .attribute(let b, _, _), .not(let b, _), .unary(_, let b, _): load(b)
            case .item(let b, let i, _): load(b); load(i)
            case .slice(let b, let start, let stop, let step, _):
                load(b)
                [start, stop, step].compactMap { $0 }.forEach { load($0) }
            case .call(let f, let args, let kwargs, _):
                load(f)
                args.forEach { load($0) }
                kwargs.forEach { load($0.1) }
            case .filter(let b, _, let args, let kwargs, _):
                load(b)
                args.forEach { load($0) }
                kwargs.forEach { load($0.1) }
            case .test(let b, _, let args, _, _): load(b); args.forEach { load($0) }
            case .binary(_, let l, let r, _), .and(let l, let r, _), .or(let l, let r, _): load(l); load(r)
            case .compare(let first, let rest, _): load(first); rest.forEach { load($0.1) }
            case .conditional(let then, let test, let otherwise, _):
                load(then)  // jinja2 visits the expressions of a CondExpr in this order
                load(test)
                if let otherwise { load(otherwise) }
            }
        }

        mutating func store(_ name: String, unconditional: Bool) {
            if unconditional, !referenced.contains(name) { shadowed.insert(name) }
            referenced.insert(name)
        }

        mutating func store(_ target: AssignTarget, unconditional: Bool) {
            switch target {
            case .name(let n): store(n, unconditional: unconditional)
            case .names(let ns): ns.forEach { store($0, unconditional: unconditional) }
            case .attribute(let ns, _): referenced.insert(ns)
            }
        }

        /// Loop bodies, macro bodies, `{% generation %}` and filter-block bodies are separate frames: not walked.
        mutating func walk(_ nodes: [Node], unconditional: Bool) {
            for node in nodes {
                switch node {
                case .text, .breakLoop, .continueLoop, .generation: break
                case .output(let e): load(e)
                case .ifChain(let branches, let otherwise):
                    for (condition, body) in branches {
                        load(condition)
                        walk(body, unconditional: false)
                    }
                    walk(otherwise, unconditional: false)
                case .forLoop(_, let iterable, _, _, _, _): load(iterable)
                case .set(let target, let e, _):
                    load(e)
                    store(target, unconditional: unconditional)
                case .setBlock(let target, _, _): store(target, unconditional: unconditional)
                case .macro(let m): store(m.name, unconditional: unconditional)
                case .callBlock(let e, _, _): load(e)
                case .filterBlock(_, let args, _, _): args.forEach { load($0) }
                }
            }
        }
    }
}
