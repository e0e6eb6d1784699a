/**
 * Validation problems: every one names the file, the row or feature, the record's id, the field, the value
 * found and what was expected, in English and Chinese. Reports keep the first few of each kind and count
 * the rest exactly.
 */
export type ProblemCode =
  | 'missing-column'
  | 'missing-value'
  | 'not-a-number'
  | 'out-of-range'
  | 'invalid-coordinates'
  | 'coordinates-swapped'
  | 'outside-area'
  | 'unknown-category'
  | 'unknown-status'
  | 'unknown-unit-code'
  | 'unknown-parent-code'
  | 'duplicate-id'
  | 'invalid-geometry'
  | 'geometry-type'
  | 'invalid-code'
  | 'invalid-age-group'
  | 'unknown-reuse-kind';

const ZH: Record<ProblemCode, string> = {
  'missing-column': '缺少字段',
  'missing-value': '缺少取值',
  'not-a-number': '不是数字',
  'out-of-range': '数值超出范围',
  'invalid-coordinates': '坐标无效',
  'coordinates-swapped': '经纬度可能颠倒',
  'outside-area': '位于项目范围之外',
  'unknown-category': '未知设施类别',
  'unknown-status': '未知设施状态',
  'unknown-unit-code': '行政区划代码不存在',
  'unknown-parent-code': '上级区划代码不存在',
  'duplicate-id': '编号重复',
  'invalid-geometry': '几何图形无效',
  'geometry-type': '几何类型不符',
  'invalid-code': '区划代码格式不符',
  'invalid-age-group': '年龄组格式不符',
  'unknown-reuse-kind': '未知利用方式',
};

export interface Problem {
  code: ProblemCode;
  file: string;
  /** "row 118" (CSV data row, 1-based, header not counted) or "feature 7". */
  record: string;
  recordId: string | null;
  field: string | null;
  value: string | null;
  expected: string;
  /** What was expected, in Chinese (the English text when a caller gives none). */
  expectedZh?: string;
  en: string;
  zh: string;
}

export class ProblemLog {
  readonly capPerCode: number;
  private readonly kept: Problem[] = [];
  private readonly counts = new Map<ProblemCode, number>();

  constructor(capPerCode = 20) {
    this.capPerCode = capPerCode;
  }

  add(p: Omit<Problem, 'en' | 'zh'> & { en?: string; zh?: string }): void {
    const n = (this.counts.get(p.code) ?? 0) + 1;
    this.counts.set(p.code, n);
    if (n > this.capPerCode) return;
    const id = p.recordId !== null ? ` (id ${p.recordId})` : '';
    const field = p.field !== null ? ` field ${p.field}` : '';
    const value = p.value !== null ? `, got ${JSON.stringify(p.value)}` : '';
    const en = p.en ?? `${p.file} ${p.record}${id}${field}: expected ${p.expected}${value}`;
    const zh =
      p.zh ??
      `${p.file} 第${p.record.replace(/^(row|feature) /, '')}${p.record.startsWith('row') ? '行' : '个要素'}${p.recordId !== null ? `（编号 ${p.recordId}）` : ''}${p.field !== null ? ` 字段 ${p.field}` : ''}：${ZH[p.code]}${p.value !== null ? `，实际为 ${JSON.stringify(p.value)}` : ''}（应为 ${p.expectedZh ?? p.expected}）`;
    this.kept.push({ ...p, en, zh });
  }

  get total(): number {
    let t = 0;
    for (const n of this.counts.values()) t += n;
    return t;
  }

  countsByCode(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  list(): readonly Problem[] {
    return this.kept;
  }

  /** Lines for a terminal, in one language, with "... and N more" per capped code. */
  format(lang: 'en' | 'zh' = 'en'): string[] {
    const lines = this.kept.map((p) => `${p.code}: ${lang === 'zh' ? p.zh : p.en}`);
    for (const [code, n] of this.counts) {
      if (n > this.capPerCode) lines.push(lang === 'zh' ? `${code}：另有 ${n - this.capPerCode} 条同类问题` : `${code}: ... and ${n - this.capPerCode} more of this kind`);
    }
    return lines;
  }
}
