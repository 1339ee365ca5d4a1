export async function exportDemo(..._a: unknown[]) {}
export async function writeIndex() {}
