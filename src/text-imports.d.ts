// Files imported as text (`with { type: "text" }`): embedded in the compiled executable.
declare module "*.service" {
  const text: string;
  export default text;
}
declare module "*.sh" {
  const text: string;
  export default text;
}
