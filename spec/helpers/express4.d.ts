// express 4 installed under an alias for the tests; its app is used through express 5's types,
// which describe the part the tests touch (use, listen) the same way.
declare module "express4" {
  const express4: () => import("express").Express;
  export default express4;
}
