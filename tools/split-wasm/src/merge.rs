//! Merging the shared modules wasm-split makes.
//!
//! wasm-split gives every set of pages that share some code a module of its
//! own (`chunk_<n>.wasm`): for the portal's sixteen pages, two hundred
//! modules, most of a few hundred bytes, a page needing up to a hundred and
//! twenty of them. Each is a request, and small files compress badly. Such a
//! module only imports what the main module shares (its memory, function
//! table and globals) and puts its functions into that table and its data
//! into that memory, at places fixed when the whole program was linked; it
//! exports nothing and needs no other shared module. So several of them make
//! one module that does what they did together ([`merge`]), for the pages
//! that need any of them; which to put together is [`plan`]'s choice.

use std::collections::HashMap;

use wasm_encoder::reencode::{Error as ReencodeError, Reencode, RoundtripReencoder};
use wasm_encoder::{
    CodeSection, DataCountSection, DataSection, ElementSection, FunctionSection, GlobalSection,
    ImportSection, Module, TypeSection,
};
use wasmparser::{Parser, Payload, TypeRef, ValType};

/// What each shared module costs a page that does not need it, against what
/// one more file costs a page that fetches it, in bytes of wasm: a request's
/// round trip and headers, and the worse compression of a small file.
pub const FILE_COST: u64 = 12_000;

/// Groups the shared modules (each given by the set of pages needing it, as
/// a bit mask, and its size) so as to lessen, over all pages, the bytes a
/// page fetches plus [`FILE_COST`] per file: starting from one group per
/// module, it merges the two groups whose merging lessens that the most,
/// while some merging does. Answers the groups, each a list of indices.
pub fn plan(modules: &[(u128, u64)]) -> Vec<Vec<usize>> {
    let cost = |pages: u128, size: u64| u64::from(pages.count_ones()) * (size + FILE_COST);
    let mut groups: Vec<(Vec<usize>, u128, u64)> = modules
        .iter()
        .enumerate()
        .map(|(i, &(pages, size))| (vec![i], pages, size))
        .collect();
    loop {
        let mut best: Option<(u64, usize, usize)> = None;
        for a in 0..groups.len() {
            for b in a + 1..groups.len() {
                let (_, pa, sa) = &groups[a];
                let (_, pb, sb) = &groups[b];
                let apart = cost(*pa, *sa) + cost(*pb, *sb);
                let together = cost(pa | pb, sa + sb);
                if together < apart {
                    let gain = apart - together;
                    if best.is_none_or(|(g, _, _)| gain > g) {
                        best = Some((gain, a, b));
                    }
                }
            }
        }
        let Some((_, a, b)) = best else { break };
        let (members, pages, size) = groups.remove(b);
        let group = &mut groups[a];
        group.0.extend(members);
        group.1 |= pages;
        group.2 += size;
    }
    let mut plan: Vec<Vec<usize>> = groups
        .into_iter()
        .map(|(mut members, _, _)| {
            members.sort_unstable();
            members
        })
        .collect();
    plan.sort();
    plan
}

/// The index maps of one input module into the merged one.
#[derive(Default)]
struct Remap {
    types: Vec<u32>,
    funcs: Vec<u32>,
    globals: Vec<u32>,
    tables: Vec<u32>,
    memories: Vec<u32>,
    data_base: u32,
    elem_base: u32,
}

fn lookup(map: &[u32], index: u32, what: &str) -> Result<u32, ReencodeError<String>> {
    map.get(index as usize)
        .copied()
        .ok_or_else(|| ReencodeError::UserError(format!("{what} {index} out of range")))
}

impl Reencode for Remap {
    type Error = String;

    fn type_index(&mut self, ty: u32) -> Result<u32, ReencodeError<String>> {
        lookup(&self.types, ty, "type")
    }
    fn function_index(&mut self, func: u32) -> Result<u32, ReencodeError<String>> {
        lookup(&self.funcs, func, "function")
    }
    fn global_index(&mut self, global: u32) -> Result<u32, ReencodeError<String>> {
        lookup(&self.globals, global, "global")
    }
    fn table_index(&mut self, table: u32) -> Result<u32, ReencodeError<String>> {
        lookup(&self.tables, table, "table")
    }
    fn memory_index(&mut self, memory: u32) -> Result<u32, ReencodeError<String>> {
        lookup(&self.memories, memory, "memory")
    }
    fn data_index(&mut self, data: u32) -> Result<u32, ReencodeError<String>> {
        Ok(self.data_base + data)
    }
    fn element_index(&mut self, element: u32) -> Result<u32, ReencodeError<String>> {
        Ok(self.elem_base + element)
    }
}

/// One input module, read.
#[derive(Default)]
struct Input<'a> {
    types: Vec<(Vec<ValType>, Vec<ValType>)>,
    imports: Vec<wasmparser::Import<'a>>,
    functions: Vec<u32>,
    globals: Vec<wasmparser::Global<'a>>,
    elements: Vec<wasmparser::Element<'a>>,
    data: Vec<wasmparser::Data<'a>>,
    has_data_count: bool,
    bodies: Vec<wasmparser::FunctionBody<'a>>,
}

fn read(bytes: &[u8]) -> Result<Input<'_>, String> {
    let mut input = Input::default();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| e.to_string())? {
            Payload::Version { .. } | Payload::End(_) | Payload::CustomSection(_) => {}
            Payload::CodeSectionStart { .. } => {}
            Payload::TypeSection(section) => {
                for ty in section.into_iter_err_on_gc_types() {
                    let ty = ty.map_err(|e| e.to_string())?;
                    input
                        .types
                        .push((ty.params().to_vec(), ty.results().to_vec()));
                }
            }
            Payload::ImportSection(section) => {
                for import in section.into_imports() {
                    input.imports.push(import.map_err(|e| e.to_string())?);
                }
            }
            Payload::FunctionSection(section) => {
                for ty in section {
                    input.functions.push(ty.map_err(|e| e.to_string())?);
                }
            }
            Payload::GlobalSection(section) => {
                for global in section {
                    input.globals.push(global.map_err(|e| e.to_string())?);
                }
            }
            Payload::ElementSection(section) => {
                for element in section {
                    input.elements.push(element.map_err(|e| e.to_string())?);
                }
            }
            Payload::DataCountSection { .. } => input.has_data_count = true,
            Payload::DataSection(section) => {
                for datum in section {
                    input.data.push(datum.map_err(|e| e.to_string())?);
                }
            }
            Payload::CodeSectionEntry(body) => input.bodies.push(body),
            // wasm-split writes an empty export section.
            Payload::ExportSection(section) if section.count() == 0 => {}
            other => {
                // Exports, a start function, tables or memories of its own:
                // not a module wasm-split shares, which has none of them.
                return Err(format!(
                    "a shared module with an unexpected section {:?}",
                    other.as_section()
                ));
            }
        }
    }
    if input.functions.len() != input.bodies.len() {
        return Err("function and code sections disagree".into());
    }
    Ok(input)
}

/// One module doing what all of `modules` do: their imports once each (by
/// module and name), their functions, element and data segments one after
/// the other, each segment at its own place as before.
pub fn merge(modules: &[&[u8]]) -> Result<Vec<u8>, String> {
    let inputs = modules
        .iter()
        .map(|m| read(m))
        .collect::<Result<Vec<_>, _>>()?;
    let re = |e: ReencodeError<String>| e.to_string();

    let mut types = TypeSection::new();
    let mut type_ids: HashMap<(Vec<ValType>, Vec<ValType>), u32> = HashMap::new();
    let mut imports = ImportSection::new();
    let mut import_ids: HashMap<(&str, &str), (u32, TypeRef)> = HashMap::new();
    let mut counts = [0u32; 4]; // imported functions, tables, memories, globals
    let mut remaps: Vec<Remap> = Vec::with_capacity(inputs.len());

    // Types, then imports (every import precedes every definition).
    for input in &inputs {
        let mut remap = Remap::default();
        for (params, results) in &input.types {
            let key = (params.clone(), results.clone());
            let next = type_ids.len() as u32;
            let id = *type_ids.entry(key).or_insert_with(|| {
                let mut rt = RoundtripReencoder;
                let params: Vec<_> = params.iter().filter_map(|v| rt.val_type(*v).ok()).collect();
                let results: Vec<_> = results
                    .iter()
                    .filter_map(|v| rt.val_type(*v).ok())
                    .collect();
                types.ty().function(params, results);
                next
            });
            remap.types.push(id);
        }
        for import in &input.imports {
            let kind = match import.ty {
                TypeRef::Func(_) | TypeRef::FuncExact(_) => 0,
                TypeRef::Table(_) => 1,
                TypeRef::Memory(_) => 2,
                TypeRef::Global(_) => 3,
                TypeRef::Tag(_) => return Err("a shared module imports a tag".into()),
            };
            let id = match import_ids.get(&(import.module, import.name)) {
                Some(&(id, ty)) => {
                    if std::mem::discriminant(&ty) != std::mem::discriminant(&import.ty) {
                        return Err(format!(
                            "{}.{} is imported as two kinds",
                            import.module, import.name
                        ));
                    }
                    id
                }
                None => {
                    let id = counts[kind];
                    counts[kind] += 1;
                    let ty = remap.entity_type(import.ty).map_err(re)?;
                    imports.import(import.module, import.name, ty);
                    import_ids.insert((import.module, import.name), (id, import.ty));
                    id
                }
            };
            match kind {
                0 => remap.funcs.push(id),
                1 => remap.tables.push(id),
                2 => remap.memories.push(id),
                _ => remap.globals.push(id),
            }
        }
        remaps.push(remap);
    }
    if counts[2] > 1 {
        return Err("the shared modules import more than one memory".into());
    }

    // Definitions: each module's after the previous one's.
    let (mut next_func, mut next_global) = (counts[0], counts[3]);
    let (mut next_data, mut next_elem) = (0u32, 0u32);
    for (input, remap) in inputs.iter().zip(remaps.iter_mut()) {
        for _ in &input.functions {
            remap.funcs.push(next_func);
            next_func += 1;
        }
        for _ in &input.globals {
            remap.globals.push(next_global);
            next_global += 1;
        }
        remap.data_base = next_data;
        remap.elem_base = next_elem;
        next_data += input.data.len() as u32;
        next_elem += input.elements.len() as u32;
    }

    let mut functions = FunctionSection::new();
    let mut globals = GlobalSection::new();
    let mut elements = ElementSection::new();
    let mut data = DataSection::new();
    let mut code = CodeSection::new();
    for (input, remap) in inputs.iter().zip(remaps.iter_mut()) {
        for &ty in &input.functions {
            functions.function(remap.type_index(ty).map_err(re)?);
        }
        for global in &input.globals {
            remap
                .parse_global(&mut globals, global.clone())
                .map_err(re)?;
        }
        for element in &input.elements {
            remap
                .parse_element(&mut elements, element.clone())
                .map_err(re)?;
        }
        for body in &input.bodies {
            remap
                .parse_function_body(&mut code, body.clone())
                .map_err(re)?;
        }
        for datum in &input.data {
            remap.parse_data(&mut data, datum.clone()).map_err(re)?;
        }
    }

    let mut module = Module::new();
    module.section(&types).section(&imports).section(&functions);
    if !globals.is_empty() {
        module.section(&globals);
    }
    if !elements.is_empty() {
        module.section(&elements);
    }
    if inputs.iter().any(|i| i.has_data_count) {
        module.section(&DataCountSection { count: next_data });
    }
    module.section(&code).section(&data);
    Ok(module.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_encoder::{
        ConstExpr, ElementSection, Elements, EntityType, Function, GlobalType, Instruction,
        MemoryType, RefType, TableType, ValType as EValType,
    };

    /// A module shaped like wasm-split's shared ones: imports the memory, the
    /// table and a global, defines functions (one calling another, one
    /// reading the global), puts them in the table at `slot` and a byte at
    /// `address`.
    fn shared_module(slot: i32, address: i32, byte: u8, extra_type: bool) -> Vec<u8> {
        let mut types = TypeSection::new();
        if extra_type {
            types.ty().function([EValType::F64], []);
        }
        types.ty().function([], [EValType::I32]);
        let ty = u32::from(extra_type);
        let mut imports = ImportSection::new();
        imports.import(
            "__wasm_split",
            "memory",
            EntityType::Memory(MemoryType {
                minimum: 1,
                maximum: None,
                memory64: false,
                shared: false,
                page_size_log2: None,
            }),
        );
        imports.import(
            "__wasm_split",
            "__indirect_function_table",
            EntityType::Table(TableType {
                element_type: RefType::FUNCREF,
                minimum: 16,
                maximum: None,
                table64: false,
                shared: false,
            }),
        );
        imports.import(
            "__wasm_split",
            "__wasm_split_shared0",
            EntityType::Global(GlobalType {
                val_type: EValType::I32,
                mutable: true,
                shared: false,
            }),
        );
        let mut functions = FunctionSection::new();
        functions.function(ty).function(ty);
        let mut elements = ElementSection::new();
        elements.active(
            None,
            &ConstExpr::i32_const(slot),
            Elements::Functions([0u32, 1].as_slice().into()),
        );
        let mut code = CodeSection::new();
        let mut first = Function::new([]);
        first
            .instruction(&Instruction::GlobalGet(0))
            .instruction(&Instruction::End);
        code.function(&first);
        let mut second = Function::new([]);
        second
            .instruction(&Instruction::Call(0))
            .instruction(&Instruction::End);
        code.function(&second);
        let mut data = DataSection::new();
        data.active(0, &ConstExpr::i32_const(address), [byte]);
        let mut module = Module::new();
        module
            .section(&types)
            .section(&imports)
            .section(&functions)
            .section(&elements)
            .section(&code)
            .section(&data);
        module.finish()
    }

    #[test]
    fn merged_modules_keep_each_function_segment_and_import_once() {
        let a = shared_module(3, 100, 7, false);
        let b = shared_module(9, 200, 8, true);
        let merged = merge(&[&a, &b]).expect("merge");
        wasmparser::Validator::new()
            .validate_all(&merged)
            .expect("a valid module");
        let input = read(&merged).expect("read");
        assert_eq!(input.imports.len(), 3, "each import once");
        assert_eq!(input.types.len(), 2, "each type once");
        assert_eq!(input.functions.len(), 4);
        assert_eq!(input.data.len(), 2);
        // Each module's functions go to its own slots, renumbered.
        let segments: Vec<(i32, Vec<u32>)> = input
            .elements
            .iter()
            .map(|e| {
                let wasmparser::ElementKind::Active { offset_expr, .. } = &e.kind else {
                    panic!("active segment")
                };
                let mut ops = offset_expr.get_operators_reader();
                let wasmparser::Operator::I32Const { value } = ops.read().expect("offset") else {
                    panic!("constant offset")
                };
                let wasmparser::ElementItems::Functions(funcs) = e.items.clone() else {
                    panic!("function indices")
                };
                (
                    value,
                    funcs.into_iter().map(|f| f.expect("index")).collect(),
                )
            })
            .collect();
        assert_eq!(segments, vec![(3, vec![0, 1]), (9, vec![2, 3])]);
        // The second module's call goes to its own first function.
        let mut ops = input.bodies[3].get_operators_reader().expect("body");
        assert!(matches!(
            ops.read().expect("op"),
            wasmparser::Operator::Call { function_index: 2 }
        ));
    }

    #[test]
    fn refuses_a_module_with_exports() {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        let mut functions = FunctionSection::new();
        functions.function(0);
        let mut exports = wasm_encoder::ExportSection::new();
        exports.export("f", wasm_encoder::ExportKind::Func, 0);
        let mut code = CodeSection::new();
        let mut f = Function::new([]);
        f.instruction(&Instruction::End);
        code.function(&f);
        module
            .section(&types)
            .section(&functions)
            .section(&exports)
            .section(&code);
        let bytes = module.finish();
        assert!(merge(&[&bytes]).is_err());
    }

    #[test]
    fn plans_small_modules_of_the_same_pages_together_and_keeps_big_ones_apart() {
        // Two tiny modules for pages {0, 1} and {0, 1, 2}: together. Two big
        // ones, each for one page of its own: apart.
        let plan = plan(&[
            (0b011, 200),
            (0b111, 300),
            (0b1000, 500_000),
            (0b10000, 400_000),
        ]);
        assert_eq!(plan, vec![vec![0, 1], vec![2], vec![3]]);
    }
}
