/** Writes `text` to `file` (atomically, by rename) unless it already holds exactly that; returns whether it wrote. */
export declare function writeIfChanged(file: string, text: string): boolean;
